import { FlowList } from '@/components/flows/flow-list';

export default function FlowsPage() {
  return <FlowList />;
}
