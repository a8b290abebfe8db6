import type { EventName, EventPayload } from '../../../shared/contract/channels';

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** Core → UI events. Shells subscribe once and forward everything over their transport. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch {
        // A broken subscriber (a closed socket, say) must not stop the others.
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
