import { change, copy, type StoreChange } from './changes.js';
import type { WorkspaceData } from './generate.js';
import { matchesName, sortNamed, type NamedQuery } from './query.js';
import type { Client } from './types.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface ClientInput {
  name: string;
  email?: string | null;
  address?: string | null;
  note?: string | null;
  archived?: boolean;
}

export type ClientPatch = Partial<ClientInput>;

export function requireClient(ws: WorkspaceData, id: string): Client {
  const c = ws.clients.get(id);
  if (!c) throw new StoreError(404, `Client with id ${id} doesn't exist`);
  return c;
}

/** Clients; a project shows its client's name, so renaming or deleting one updates its projects. */
export class Clients {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: NamedQuery = {}): Client[] {
    const ws = this.workspaces.get(workspaceId);
    const list = [...ws.clients.values()].filter(
      (c) => matchesName(c.name, q) && (q.archived === undefined || c.archived === q.archived),
    );
    sortNamed(list, q);
    return list.map(copy);
  }

  get(workspaceId: string, clientId: string): Client {
    return copy(requireClient(this.workspaces.get(workspaceId), clientId));
  }

  create(workspaceId: string, input: ClientInput): StoreChange<Client> {
    const ws = this.workspaces.get(workspaceId);
    const name = requireName(input.name, 'client');
    if ([...ws.clients.values()].some((c) => c.name === name))
      throw new StoreError(400, `Client with name '${name}' already exists`);
    const currency = ws.workspace.currencies[0] as { id: string; code: string };
    const client: Client = {
      id: this.workspaces.newId(ws),
      name,
      email: input.email ?? null,
      workspaceId,
      archived: input.archived ?? false,
      address: input.address ?? null,
      note: input.note ?? null,
      ccEmails: [],
      currencyId: currency.id,
      currencyCode: currency.code,
    };
    ws.clients.set(client.id, client);
    return change(workspaceId, 'NEW_CLIENT', 'client', 'created', client);
  }

  update(workspaceId: string, clientId: string, patch: ClientPatch): StoreChange<Client> {
    const ws = this.workspaces.get(workspaceId);
    const client = requireClient(ws, clientId);
    const previous = copy(client);
    if (patch.name !== undefined) client.name = requireName(patch.name, 'client');
    if (patch.email !== undefined) client.email = patch.email;
    if (patch.address !== undefined) client.address = patch.address;
    if (patch.note !== undefined) client.note = patch.note;
    if (patch.archived !== undefined) client.archived = patch.archived;
    if (client.name !== previous.name)
      for (const p of ws.projects.values()) if (p.clientId === clientId) p.clientName = client.name;
    return change(workspaceId, 'CLIENT_UPDATED', 'client', 'updated', client, previous);
  }

  delete(workspaceId: string, clientId: string): StoreChange<Client> {
    const ws = this.workspaces.get(workspaceId);
    const client = requireClient(ws, clientId);
    ws.clients.delete(clientId);
    for (const p of ws.projects.values()) {
      if (p.clientId === clientId) {
        p.clientId = '';
        p.clientName = '';
      }
    }
    return change(workspaceId, 'CLIENT_DELETED', 'client', 'deleted', client);
  }
}
