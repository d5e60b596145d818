/**
 * Entity shapes served by the mock API. Field names and types follow the response schemas of
 * the official OpenAPI document (named on each interface); nullable fields are null the way
 * Clockify sends them.
 */

export interface Rate {
  /** Minor units (cents). */
  amount: number;
  currency: string;
}

export type MembershipStatus = 'PENDING' | 'ACTIVE' | 'DECLINED' | 'INACTIVE';
export type AccountStatus =
  'ACTIVE' | 'PENDING_EMAIL_VERIFICATION' | 'DELETED' | 'NOT_REGISTERED' | 'LIMITED' | 'LIMITED_DELETED';
export type WorkspaceRole = 'OWNER' | 'WORKSPACE_ADMIN' | 'MANAGER' | 'TEAM_MANAGER' | 'PROJECT_MANAGER' | 'USER';

/** MembershipDtoV1 */
export interface Membership {
  userId: string;
  hourlyRate: Rate | null;
  costRate: Rate | null;
  targetId: string;
  membershipType: 'WORKSPACE' | 'PROJECT' | 'USERGROUP';
  membershipStatus: MembershipStatus;
}

/** WorkspaceDtoV1 */
export interface Workspace {
  id: string;
  name: string;
  hourlyRate: Rate;
  costRate: Rate;
  memberships: Membership[];
  workspaceSettings: Record<string, unknown>;
  imageUrl: string;
  featureSubscriptionType: Record<string, unknown>;
  features: string[];
  currencies: Array<{ id: string; code: string; isDefault: boolean }>;
  subdomain: { enabled: boolean; name: string | null };
  cakeOrganizationId: string;
}

/** UserDtoV1 (the `memberships` field is filled per request from `membershipStatus`). */
export interface User {
  id: string;
  email: string;
  name: string;
  memberships: Membership[];
  profilePicture: string;
  activeWorkspace: string;
  defaultWorkspace: string;
  settings: Record<string, unknown>;
  status: AccountStatus;
  customFields: Array<{
    customFieldId: string;
    customFieldName: string;
    customFieldType: string;
    userId: string;
    value: unknown;
  }>;
}

/** Workspace-level facts of a user kept beside the DTO. */
export interface UserRecord {
  user: User;
  membershipStatus: MembershipStatus;
  role: WorkspaceRole;
  hourlyRate: Rate | null;
  costRate: Rate | null;
}

/** UserGroupDtoV1 */
export interface UserGroup {
  id: string;
  name: string;
  workspaceId: string;
  userIds: string[];
  teamManagers: Array<{ id: string; name: string }>;
}

/** ClientWithCurrencyDtoV1 */
export interface Client {
  id: string;
  name: string;
  email: string | null;
  workspaceId: string;
  archived: boolean;
  address: string | null;
  note: string | null;
  ccEmails: string[];
  currencyId: string;
  currencyCode: string;
}

/** ProjectDtoV1 (+ `clientId`/`clientName` of ProjectDtoImplV1, which Clockify sends too). */
export interface Project {
  id: string;
  name: string;
  hourlyRate: Rate | null;
  costRate: Rate | null;
  clientId: string;
  clientName: string;
  workspaceId: string;
  billable: boolean;
  memberships: Membership[];
  color: string;
  estimate: { estimate: string; type: 'AUTO' | 'MANUAL' };
  archived: boolean;
  duration: string;
  note: string;
  template: boolean;
  public: boolean;
  budgetEstimate: {
    estimate: number;
    type: 'AUTO' | 'MANUAL';
    resetOption: string | null;
    active: boolean;
    includeExpenses: boolean;
  } | null;
  timeEstimate: {
    estimate: string;
    type: 'AUTO' | 'MANUAL';
    resetOption: string | null;
    active: boolean;
    includeNonBillable: boolean;
  };
}

/** TaskDtoV1 */
export interface Task {
  id: string;
  name: string;
  projectId: string;
  assigneeIds: string[];
  assigneeId: string | null;
  userGroupIds: string[];
  estimate: string;
  status: 'ACTIVE' | 'DONE';
  duration: string;
  billable: boolean;
  hourlyRate: Rate | null;
  costRate: Rate | null;
  budgetEstimate: number;
}

/** TagDtoV1 */
export interface Tag {
  id: string;
  name: string;
  workspaceId: string;
  archived: boolean;
}

/** CustomFieldDtoV1 */
export interface CustomField {
  id: string;
  name: string;
  type: 'TXT' | 'NUMBER' | 'DROPDOWN_SINGLE' | 'DROPDOWN_MULTIPLE' | 'CHECKBOX' | 'LINK';
  allowedValues: string[];
  description: string;
  entityType: 'TIMEENTRY' | 'USER';
  onlyAdminCanEdit: boolean;
  placeholder: string;
  projectDefaultValues: Array<{ projectId: string; status: string; value: unknown }>;
  required: boolean;
  status: 'INACTIVE' | 'VISIBLE' | 'INVISIBLE';
  workspaceDefaultValue: unknown;
  workspaceId: string;
}

/** CustomFieldValueDtoV1 */
export interface CustomFieldValue {
  customFieldId: string;
  timeEntryId: string;
  value: unknown;
  name: string;
  type: string;
}

/** TimeEntryWithRatesDtoV1 */
export interface TimeEntry {
  id: string;
  description: string;
  tagIds: string[];
  userId: string;
  billable: boolean;
  taskId: string | null;
  projectId: string | null;
  workspaceId: string;
  timeInterval: { start: string; end: string | null; duration: string | null };
  customFieldValues: CustomFieldValue[];
  type: 'REGULAR' | 'BREAK' | 'HOLIDAY' | 'TIME_OFF';
  kioskId: string | null;
  hourlyRate: Rate | null;
  costRate: Rate | null;
  isLocked: boolean;
}

/** How big a generated workspace is. Every field is optional in options; see DEFAULT_SIZES. */
export interface WorkspaceSizes {
  readonly users: number;
  readonly userGroups: number;
  readonly clients: number;
  readonly projects: number;
  readonly tasksPerProject: number;
  readonly tags: number;
  readonly customFields: number;
  /** Time entries in the workspace, spread over its members. */
  readonly entries: number;
  /** Entries fall within the last `days` days. */
  readonly days: number;
  /** Members with a timer running now (end null). */
  readonly runningTimers: number;
}

export const DEFAULT_SIZES: WorkspaceSizes = Object.freeze({
  users: 8,
  userGroups: 3,
  clients: 4,
  projects: 10,
  tasksPerProject: 3,
  tags: 8,
  customFields: 3,
  entries: 120,
  days: 30,
  runningTimers: 2,
});

/** Upper bounds that keep a typo (`--entries 2e9`) from exhausting memory. */
export const MAX_SIZES: WorkspaceSizes = Object.freeze({
  users: 20_000,
  userGroups: 2_000,
  clients: 20_000,
  projects: 50_000,
  tasksPerProject: 1_000,
  tags: 20_000,
  customFields: 200,
  entries: 2_000_000,
  days: 3_650,
  runningTimers: 20_000,
});

export interface WorkspaceSpec {
  /** 24-hex id; derived from the seed when absent. */
  readonly id?: string;
  readonly name?: string;
  readonly sizes?: Partial<WorkspaceSizes>;
}
