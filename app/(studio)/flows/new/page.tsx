import { NewFlowDesigner } from '@/components/designer/designer';

export default function NewFlowPage() {
  return <NewFlowDesigner />;
}
