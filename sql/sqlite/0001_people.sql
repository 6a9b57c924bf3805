-- 0001: people, courses, lessons, projects and grants.
-- Times are Unix seconds (UTC). Applied inside one transaction by `cohort migrate`.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    login         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT,                          -- Argon2id (crypto_pwhash_str); NULL: external sign-in only
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

CREATE TABLE courses (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    join_code_hash TEXT    NOT NULL,             -- SHA-256 of the join code, hex; the code itself is not kept
    owner_id       INTEGER NOT NULL REFERENCES users (id),
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX courses_join_code ON courses (join_code_hash);

CREATE TABLE participants (
    id         INTEGER PRIMARY KEY,
    course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL CHECK (role IN ('teacher', 'student')),
    nickname   TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    UNIQUE (course_id, user_id),
    UNIQUE (course_id, nickname)
);
CREATE INDEX participants_user ON participants (user_id);

CREATE TABLE lessons (
    id           INTEGER PRIMARY KEY,
    course_id    INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    template_ref TEXT,                           -- object-store key of the template archive
    position     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX lessons_course ON lessons (course_id, position);

CREATE TABLE projects (
    id               INTEGER PRIMARY KEY,
    lesson_id        INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    owner_id         INTEGER NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    UNIQUE (lesson_id, owner_id)
);

-- A row overrides the default access of its grantee: students have none by
-- default, teachers of the course have read and write; a row with both bits
-- off is how an owner shuts a teacher out. Write without read is refused.
CREATE TABLE project_grants (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    grantee_id INTEGER NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    can_read   INTEGER NOT NULL CHECK (can_read IN (0, 1)),
    can_write  INTEGER NOT NULL CHECK (can_write IN (0, 1)),
    granted_by INTEGER NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, grantee_id),
    CHECK (can_write = 0 OR can_read = 1)
);
CREATE INDEX project_grants_grantee ON project_grants (grantee_id);
