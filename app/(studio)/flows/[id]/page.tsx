import { FlowDetail } from '@/components/flows/flow-detail';

export default async function FlowPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <FlowDetail flowId={id} />;
}
