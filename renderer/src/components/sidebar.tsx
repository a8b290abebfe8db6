import { useRef, type KeyboardEvent } from 'react';
import { screens, useNavigationStore, type ScreenId } from '../stores/navigation-store';

const icons: Record<ScreenId, string> = {
  packages: '▣',
  deploy: '➚',
  storage: '◫',
  mirrors: '⇆',
  cdn: '◎',
  replication: '◈',
  backups: '⟲',
  access: '◉',
  metrics: '▤',
  settings: '⚙',
};

/** Arrow keys move between entries, Enter/Space opens one (a roving list, one Tab stop). */
export function Sidebar() {
  const current = useNavigationStore((state) => state.screen);
  const go = useNavigationStore((state) => state.go);
  const refs = useRef<Array<HTMLButtonElement | null>>([]);

  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>, index: number): void => {
    const move = (target: number): void => {
      event.preventDefault();
      refs.current[(target + screens.length) % screens.length]?.focus();
    };
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(screens.length - 1);
  };

  return (
    <nav className="sidebar" aria-label="Sections">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ▦
        </span>
        <span>Torsh Depot</span>
      </div>
      <ul>
        {screens.map((screen, index) => (
          <li key={screen.id}>
            <button
              ref={(element) => {
                refs.current[index] = element;
              }}
              type="button"
              className={`nav-item ${current === screen.id ? 'active' : ''}`}
              aria-current={current === screen.id ? 'page' : undefined}
              tabIndex={current === screen.id ? 0 : -1}
              data-testid={`nav-${screen.id}`}
              onClick={() => go(screen.id)}
              onKeyDown={(event) => onKeyDown(event, index)}
            >
              <span className="nav-icon" aria-hidden="true">
                {icons[screen.id]}
              </span>
              {screen.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
