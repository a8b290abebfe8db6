import { ScreenHeader } from '../components/screen-header';

/** A capability that has not landed yet says so plainly: no fake data. */
export function NotBuiltScreen({ title, summary, arrives }: { title: string; summary: string; arrives: string }) {
  return (
    <section className="screen" aria-labelledby="screen-title">
      <ScreenHeader title={title} />
      <div className="card not-built" data-testid="not-built">
        <h2>Not built yet</h2>
        <p>{summary}</p>
        <p className="muted">{arrives}</p>
      </div>
    </section>
  );
}

export const notBuiltScreens = {
  deploy: {
    title: 'Deploy',
    summary: 'One-click deployment: verify the signature, take a recovery point, publish, push to the CDN, replicate and sync mirrors — with live per-stage progress, rollback and history.',
    arrives: 'Arrives with the deployment pipeline, once storage, signing, CDN, replication and mirrors are in.',
  },
} as const;
