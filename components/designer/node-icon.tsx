import {
  ArrowRightLeft,
  Box,
  Braces,
  CalendarClock,
  Clock,
  Code,
  Database,
  Ear,
  FileCode,
  Filter,
  GitFork,
  Globe,
  Hourglass,
  Layers,
  ListFilter,
  ListOrdered,
  PhoneOutgoing,
  Rabbit,
  Radio,
  RadioTower,
  Repeat,
  ScanSearch,
  ScrollText,
  Send,
  ShieldAlert,
  Split,
  Terminal,
  TriangleAlert,
  Webhook,
  Workflow,
  Zap,
  type LucideIcon,
} from 'lucide-react';

/** The registry names icons in lucide's kebab-case; importing each one keeps the bundle to what is used. */
const icons: Record<string, LucideIcon> = {
  'arrow-right-left': ArrowRightLeft,
  braces: Braces,
  'calendar-clock': CalendarClock,
  clock: Clock,
  code: Code,
  database: Database,
  ear: Ear,
  'file-code': FileCode,
  filter: Filter,
  'git-fork': GitFork,
  globe: Globe,
  hourglass: Hourglass,
  layers: Layers,
  'list-filter': ListFilter,
  'list-ordered': ListOrdered,
  'phone-outgoing': PhoneOutgoing,
  rabbit: Rabbit,
  radio: Radio,
  'radio-tower': RadioTower,
  repeat: Repeat,
  'scan-search': ScanSearch,
  'scroll-text': ScrollText,
  send: Send,
  'shield-alert': ShieldAlert,
  split: Split,
  terminal: Terminal,
  'triangle-alert': TriangleAlert,
  webhook: Webhook,
  workflow: Workflow,
  zap: Zap,
};

export function hasIcon(name: string): boolean {
  return name in icons;
}

export function NodeIcon({ name, className = 'h-4 w-4' }: { name: string; className?: string }) {
  const Icon = icons[name] ?? Box;
  return <Icon aria-hidden className={className} />;
}
