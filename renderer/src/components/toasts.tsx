import { useNotificationsStore } from '../stores/notifications-store';

export function Toasts() {
  const toasts = useNotificationsStore((state) => state.toasts);
  const dismiss = useNotificationsStore((state) => state.dismiss);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast-${toast.level}`} data-testid="toast">
          <div>
            <strong>{toast.title}</strong>
            <div>{toast.body}</div>
          </div>
          <button type="button" className="link-button" onClick={() => dismiss(toast.id)} aria-label="Dismiss notification">
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
