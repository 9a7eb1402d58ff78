import { FlowDesigner } from '@/components/designer/designer';

export default async function FlowPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <FlowDesigner flowId={id} />;
}
