import { PipelineRunDetail } from '@/components/runs/pipeline-run-detail';
import { RunDetail } from '@/components/runs/run-detail';

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  // Pipeline runs have no run row: their ids name the event and deployment (server/services/pipeline-runs.ts).
  return id.startsWith('pipeline-') ? <PipelineRunDetail id={id} /> : <RunDetail id={id} />;
}
