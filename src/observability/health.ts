/**
 * Process-wide health: components (the replica session, the publisher, the applier...) report
 * whether they work; /health answers 200 when all that reported are healthy, else 503.
 */
export interface ComponentHealth {
  healthy: boolean;
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  components: Record<string, ComponentHealth>;
}

export class Health {
  private readonly components = new Map<string, ComponentHealth>();

  set(component: string, healthy: boolean, detail?: string): void {
    this.components.set(component, detail === undefined ? { healthy } : { healthy, detail });
  }

  report(): HealthReport {
    const components = Object.fromEntries(this.components);
    const healthy = [...this.components.values()].every((component) => component.healthy);
    return { status: healthy ? 'ok' : 'unhealthy', components };
  }
}

export const processHealth = new Health();
