export interface Collection {
  id: string;
  owner: string;
  name: string;
  description: string | null;
  created_at: string; // ISO-8601
}
