import { change, copy, type StoreChange } from './changes.js';
import type { WorkspaceData } from './generate.js';
import { sortBy } from './query.js';
import type { CustomField } from './types.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface CustomFieldQuery {
  readonly name?: string;
  readonly status?: CustomField['status'];
  readonly entityType?: string;
}

export interface CustomFieldInput {
  name: string;
  type: CustomField['type'];
  allowedValues?: readonly string[];
  entityType?: CustomField['entityType'];
}

export interface CustomFieldPatch {
  name?: string;
  status?: CustomField['status'];
  allowedValues?: readonly string[];
  required?: boolean;
}

export function requireCustomField(ws: WorkspaceData, id: string): CustomField {
  const field = ws.customFields.get(id);
  if (!field) throw new StoreError(404, `Custom field with id ${id} doesn't exist`);
  return field;
}

/** Custom fields. Clockify sends no webhook for them, so their changes carry no event. */
export class CustomFields {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: CustomFieldQuery = {}): CustomField[] {
    const ws = this.workspaces.get(workspaceId);
    const entityTypes = q.entityType ? q.entityType.split(',').map((s) => s.trim().toUpperCase()) : undefined;
    const list = [...ws.customFields.values()].filter(
      (f) =>
        (q.name === undefined || f.name.toLowerCase().includes(q.name.toLowerCase())) &&
        (q.status === undefined || f.status === q.status) &&
        (entityTypes === undefined || entityTypes.includes(f.entityType)),
    );
    sortBy(
      list,
      (f) => f.name.toLowerCase(),
      (f) => f.id,
      'ASCENDING',
    );
    return list.map(copy);
  }

  create(workspaceId: string, input: CustomFieldInput): StoreChange<CustomField> {
    const ws = this.workspaces.get(workspaceId);
    const field: CustomField = {
      id: this.workspaces.newId(ws),
      name: requireName(input.name, 'custom field'),
      type: input.type,
      allowedValues: [...(input.allowedValues ?? [])],
      description: '',
      entityType: input.entityType ?? 'TIMEENTRY',
      onlyAdminCanEdit: false,
      placeholder: '',
      projectDefaultValues: [],
      required: false,
      status: 'VISIBLE',
      workspaceDefaultValue: null,
      workspaceId,
    };
    ws.customFields.set(field.id, field);
    return change(workspaceId, undefined, 'customField', 'created', field);
  }

  update(workspaceId: string, fieldId: string, patch: CustomFieldPatch): StoreChange<CustomField> {
    const ws = this.workspaces.get(workspaceId);
    const field = requireCustomField(ws, fieldId);
    const previous = copy(field);
    if (patch.name !== undefined) field.name = requireName(patch.name, 'custom field');
    if (patch.status !== undefined) field.status = patch.status;
    if (patch.allowedValues !== undefined) field.allowedValues = [...patch.allowedValues];
    if (patch.required !== undefined) field.required = patch.required;
    return change(workspaceId, undefined, 'customField', 'updated', field, previous);
  }

  /** Deletes a field and its values on every time entry. */
  delete(workspaceId: string, fieldId: string): StoreChange<CustomField> {
    const ws = this.workspaces.get(workspaceId);
    const field = requireCustomField(ws, fieldId);
    ws.customFields.delete(fieldId);
    for (const e of ws.entries.values())
      e.customFieldValues = e.customFieldValues.filter((v) => v.customFieldId !== fieldId);
    return change(workspaceId, undefined, 'customField', 'deleted', field);
  }
}
