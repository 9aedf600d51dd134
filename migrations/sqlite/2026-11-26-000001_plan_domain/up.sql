-- The OGP action-plan domain. Text ids are stable slugs from fixtures; dates are ISO 8601 text at
-- the precision the source gives ("2021-09-10", "2025-08", "2021").
CREATE TABLE sources (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    seed_file TEXT,
    publisher TEXT,
    lang TEXT NOT NULL,
    excerpt_cut BOOLEAN NOT NULL DEFAULT 0,
    note TEXT
);

CREATE TABLE members (
    id TEXT PRIMARY KEY NOT NULL,
    country TEXT NOT NULL,
    ogp_track TEXT NOT NULL,
    joined_year INTEGER,
    katottg TEXT,
    koatuu TEXT,
    ogp_url TEXT
);

CREATE TABLE institutions (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES institutions (id),
    homepage TEXT,
    edrpou TEXT
);

CREATE TABLE action_plans (
    id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    ogp_id TEXT,
    year_of_submission INTEGER,
    date_submitted TEXT,
    end_date TEXT,
    locally_approved_period TEXT,
    participant_groups INTEGER,
    public_meetings INTEGER,
    invitations INTEGER,
    invitations_qualifier TEXT,
    oversight_body_status TEXT
);

CREATE TABLE commitments (
    id TEXT PRIMARY KEY NOT NULL,
    action_plan_id TEXT NOT NULL REFERENCES action_plans (id),
    number INTEGER NOT NULL,
    ogp_id TEXT,
    ogp_url TEXT,
    start_date TEXT,
    end_date TEXT
);
CREATE INDEX commitments_plan ON commitments (action_plan_id, id);

CREATE TABLE commitment_ogp_values (
    commitment_id TEXT NOT NULL REFERENCES commitments (id),
    ogp_value TEXT NOT NULL,
    PRIMARY KEY (commitment_id, ogp_value)
);
CREATE INDEX commitment_ogp_values_value ON commitment_ogp_values (ogp_value, commitment_id);

CREATE TABLE milestones (
    id TEXT PRIMARY KEY NOT NULL,
    commitment_id TEXT NOT NULL REFERENCES commitments (id),
    seq INTEGER NOT NULL,
    status TEXT,
    status_source_id TEXT REFERENCES sources (id),
    start_date TEXT,
    due_date TEXT,
    -- The first and last day the (possibly partial) due date can mean, for range filters.
    due_earliest TEXT,
    due_latest TEXT
);
CREATE INDEX milestones_commitment ON milestones (commitment_id, id);

CREATE TABLE co_creation_spaces (
    id TEXT PRIMARY KEY NOT NULL,
    action_plan_id TEXT NOT NULL REFERENCES action_plans (id),
    seq INTEGER NOT NULL,
    channel TEXT,
    institution_id TEXT REFERENCES institutions (id)
);

CREATE TABLE endorsements (
    id TEXT PRIMARY KEY NOT NULL,
    action_plan_id TEXT NOT NULL REFERENCES action_plans (id),
    seq INTEGER NOT NULL,
    endorser TEXT NOT NULL,
    institution_id TEXT REFERENCES institutions (id)
);

-- Exactly one subject column is set (checked here and by the fixture loader).
CREATE TABLE involvements (
    id TEXT PRIMARY KEY NOT NULL,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    action_plan_id TEXT REFERENCES action_plans (id),
    commitment_id TEXT REFERENCES commitments (id),
    milestone_id TEXT REFERENCES milestones (id),
    role TEXT NOT NULL,
    source_label TEXT,
    CHECK ((action_plan_id IS NOT NULL) + (commitment_id IS NOT NULL) + (milestone_id IS NOT NULL) = 1)
);
CREATE INDEX involvements_institution ON involvements (institution_id);
CREATE INDEX involvements_commitment ON involvements (commitment_id);
CREATE INDEX involvements_milestone ON involvements (milestone_id);
CREATE INDEX involvements_plan ON involvements (action_plan_id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    action_plan_id TEXT REFERENCES action_plans (id),
    commitment_id TEXT REFERENCES commitments (id),
    kind TEXT NOT NULL,
    evaluator TEXT,
    published TEXT,
    url TEXT,
    verifiable BOOLEAN,
    relevant_to_ogp_values BOOLEAN,
    potential_for_results TEXT,
    completion TEXT,
    did_it_open_government TEXT,
    CHECK ((action_plan_id IS NOT NULL) + (commitment_id IS NOT NULL) = 1)
);

CREATE TABLE progress_updates (
    id TEXT PRIMARY KEY NOT NULL,
    action_plan_id TEXT REFERENCES action_plans (id),
    commitment_id TEXT REFERENCES commitments (id),
    milestone_id TEXT REFERENCES milestones (id),
    reported_on TEXT,
    metric TEXT,
    value DOUBLE PRECISION,
    CHECK ((action_plan_id IS NOT NULL) + (commitment_id IS NOT NULL) + (milestone_id IS NOT NULL) = 1)
);

-- Provenance: every record names at least one source.
CREATE TABLE record_sources (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    source_id TEXT NOT NULL REFERENCES sources (id),
    PRIMARY KEY (entity_type, entity_id, source_id)
);

-- Every human text, per language, with the source its wording comes from.
CREATE TABLE localized_texts (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    lang TEXT NOT NULL,
    value TEXT NOT NULL,
    source_id TEXT REFERENCES sources (id),
    PRIMARY KEY (entity_type, entity_id, field, lang)
);
