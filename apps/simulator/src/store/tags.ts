import { change, copy, type StoreChange } from './changes.js';
import type { WorkspaceData } from './generate.js';
import { matchesName, sortNamed, type NamedQuery } from './query.js';
import type { Tag } from './types.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface TagQuery extends NamedQuery {
  readonly excludedIds?: readonly string[];
}

export interface TagInput {
  name: string;
  archived?: boolean;
}

export type TagPatch = Partial<TagInput>;

export function requireTag(ws: WorkspaceData, id: string): Tag {
  const t = ws.tags.get(id);
  if (!t) throw new StoreError(404, `Tag with id ${id} doesn't exist`);
  return t;
}

export class Tags {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: TagQuery = {}): Tag[] {
    const ws = this.workspaces.get(workspaceId);
    const excluded = new Set(q.excludedIds ?? []);
    const list = [...ws.tags.values()].filter(
      (t) => matchesName(t.name, q) && (q.archived === undefined || t.archived === q.archived) && !excluded.has(t.id),
    );
    sortNamed(list, q);
    return list.map(copy);
  }

  get(workspaceId: string, tagId: string): Tag {
    return copy(requireTag(this.workspaces.get(workspaceId), tagId));
  }

  create(workspaceId: string, input: TagInput): StoreChange<Tag> {
    const ws = this.workspaces.get(workspaceId);
    const name = requireName(input.name, 'tag');
    if ([...ws.tags.values()].some((t) => t.name === name))
      throw new StoreError(400, `Tag with name '${name}' already exists`);
    const tag: Tag = { id: this.workspaces.newId(ws), name, workspaceId, archived: input.archived ?? false };
    ws.tags.set(tag.id, tag);
    return change(workspaceId, 'NEW_TAG', 'tag', 'created', tag);
  }

  update(workspaceId: string, tagId: string, patch: TagPatch): StoreChange<Tag> {
    const ws = this.workspaces.get(workspaceId);
    const tag = requireTag(ws, tagId);
    const previous = copy(tag);
    if (patch.name !== undefined) tag.name = requireName(patch.name, 'tag');
    if (patch.archived !== undefined) tag.archived = patch.archived;
    return change(workspaceId, 'TAG_UPDATED', 'tag', 'updated', tag, previous);
  }

  /** Deletes a tag and takes it off every time entry. */
  delete(workspaceId: string, tagId: string): StoreChange<Tag> {
    const ws = this.workspaces.get(workspaceId);
    const tag = requireTag(ws, tagId);
    ws.tags.delete(tagId);
    for (const e of ws.entries.values()) if (e.tagIds.includes(tagId)) e.tagIds = e.tagIds.filter((t) => t !== tagId);
    return change(workspaceId, 'TAG_DELETED', 'tag', 'deleted', tag);
  }
}
