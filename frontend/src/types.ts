// Shapes of the REST answers the front end reads (docs/openapi.yaml).

export interface User {
  id: number;
  login: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
}

export interface Course {
  id: number;
  name: string;
  description: string;
  owner_id: number;
}

export type Role = 'teacher' | 'student';

export interface Participant {
  id: number;
  course_id: number;
  user_id?: number;
  login?: string;
  role: Role;
  nickname: string;
}

export interface CourseWithMe {
  course: Course;
  me: Participant | null;
}

export interface CourseCreated {
  course: Course;
  teacher: Participant;
  join_code: string;
}

export interface Lesson {
  id: number;
  course_id: number;
  position: number;
  name: string;
  description: string;
  template_ref: string | null;
}

export interface Access {
  read: boolean;
  write: boolean;
}

export interface Project {
  id: number;
  lesson_id: number;
  course_id: number;
  owner_id: number;
  owner_user_id: number;
  owner_role: Role;
  owner_nickname: string;
}

export interface ProjectWithAccess {
  project: Project;
  access: Access;
}

export interface AccessEntry {
  participant_id: number;
  user_id: number;
  role: Role;
  nickname: string;
  project_id: number | null;
  read: boolean;
  write: boolean;
  explicit_grant: boolean;
}

export interface AccessListing {
  lesson: Lesson;
  me: Participant;
  can_open: AccessEntry[];
  can_open_mine: AccessEntry[];
}

export interface GrantRow {
  grantee: Participant | number;
  bits: Access;
}

export interface GrantList {
  project_id: number;
  grants: GrantRow[];
  can_open: AccessEntry[];
}

export interface FileEntry {
  path: string;
  kind: 'file' | 'dir';
  size?: number;
  version?: number;
  binary?: boolean;
  content_type?: string;
}

export interface FileTree {
  project_id: number;
  entries: FileEntry[];
}

/** The event envelope (docs/protocol.md section 1). */
export interface CohortEvent {
  id?: string;
  type: string;
  stream: string;
  project: string | number | null;
  file?: string;
  version?: number;
  actor: { user: string; client: string | null } | null;
  data: unknown;
}

export interface FileEventData {
  action: 'created' | 'updated' | 'renamed' | 'deleted';
  path: string;
  from?: string;
  kind: 'file' | 'dir';
  version?: number;
}
