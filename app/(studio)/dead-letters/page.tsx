import { DeadLetterList } from '@/components/dead-letters/dead-letter-list';

export default function DeadLettersPage() {
  return <DeadLetterList />;
}
