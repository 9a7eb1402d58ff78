import { SecretList } from '@/components/secrets/secret-list';

export default function SecretsPage() {
  return <SecretList />;
}
