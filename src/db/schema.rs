//! Hand-maintained table definitions using only types both backends share (see
//! `migrations/sqlite` and `migrations/postgres`; `tests/integration/backends.rs` keeps them in step).

diesel::table! {
    sources (id) {
        id -> Text,
        title -> Text,
        url -> Nullable<Text>,
        seed_file -> Nullable<Text>,
        publisher -> Nullable<Text>,
        lang -> Text,
        excerpt_cut -> Bool,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    members (id) {
        id -> Text,
        country -> Text,
        ogp_track -> Text,
        joined_year -> Nullable<Integer>,
        katottg -> Nullable<Text>,
        koatuu -> Nullable<Text>,
        ogp_url -> Nullable<Text>,
    }
}

diesel::table! {
    institutions (id) {
        id -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        homepage -> Nullable<Text>,
        edrpou -> Nullable<Text>,
    }
}

diesel::table! {
    action_plans (id) {
        id -> Text,
        member_id -> Text,
        ogp_id -> Nullable<Text>,
        year_of_submission -> Nullable<Integer>,
        date_submitted -> Nullable<Text>,
        end_date -> Nullable<Text>,
        locally_approved_period -> Nullable<Text>,
        participant_groups -> Nullable<Integer>,
        public_meetings -> Nullable<Integer>,
        invitations -> Nullable<Integer>,
        invitations_qualifier -> Nullable<Text>,
        oversight_body_status -> Nullable<Text>,
    }
}

diesel::table! {
    commitments (id) {
        id -> Text,
        action_plan_id -> Text,
        number -> Integer,
        ogp_id -> Nullable<Text>,
        ogp_url -> Nullable<Text>,
        start_date -> Nullable<Text>,
        end_date -> Nullable<Text>,
    }
}

diesel::table! {
    commitment_ogp_values (commitment_id, ogp_value) {
        commitment_id -> Text,
        ogp_value -> Text,
    }
}

diesel::table! {
    milestones (id) {
        id -> Text,
        commitment_id -> Text,
        seq -> Integer,
        status -> Nullable<Text>,
        status_source_id -> Nullable<Text>,
        start_date -> Nullable<Text>,
        due_date -> Nullable<Text>,
        due_earliest -> Nullable<Text>,
        due_latest -> Nullable<Text>,
    }
}

diesel::table! {
    co_creation_spaces (id) {
        id -> Text,
        action_plan_id -> Text,
        seq -> Integer,
        channel -> Nullable<Text>,
        institution_id -> Nullable<Text>,
    }
}

diesel::table! {
    endorsements (id) {
        id -> Text,
        action_plan_id -> Text,
        seq -> Integer,
        endorser -> Text,
        institution_id -> Nullable<Text>,
    }
}

diesel::table! {
    involvements (id) {
        id -> Text,
        institution_id -> Text,
        action_plan_id -> Nullable<Text>,
        commitment_id -> Nullable<Text>,
        milestone_id -> Nullable<Text>,
        role -> Text,
        source_label -> Nullable<Text>,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        action_plan_id -> Nullable<Text>,
        commitment_id -> Nullable<Text>,
        kind -> Text,
        evaluator -> Nullable<Text>,
        published -> Nullable<Text>,
        url -> Nullable<Text>,
        verifiable -> Nullable<Bool>,
        relevant_to_ogp_values -> Nullable<Bool>,
        potential_for_results -> Nullable<Text>,
        completion -> Nullable<Text>,
        did_it_open_government -> Nullable<Text>,
    }
}

diesel::table! {
    progress_updates (id) {
        id -> Text,
        action_plan_id -> Nullable<Text>,
        commitment_id -> Nullable<Text>,
        milestone_id -> Nullable<Text>,
        reported_on -> Nullable<Text>,
        metric -> Nullable<Text>,
        value -> Nullable<Double>,
        occurred -> Nullable<Text>,
    }
}

diesel::table! {
    record_sources (entity_type, entity_id, source_id) {
        entity_type -> Text,
        entity_id -> Text,
        source_id -> Text,
    }
}

diesel::table! {
    localized_texts (entity_type, entity_id, field, lang) {
        entity_type -> Text,
        entity_id -> Text,
        field -> Text,
        lang -> Text,
        value -> Text,
        source_id -> Nullable<Text>,
        wording -> Text,
    }
}

diesel::table! {
    field_provenance (entity_type, entity_id, field) {
        entity_type -> Text,
        entity_id -> Text,
        field -> Text,
        source_id -> Nullable<Text>,
        classified -> Nullable<Text>,
    }
}

diesel::joinable!(action_plans -> members (member_id));
diesel::joinable!(commitments -> action_plans (action_plan_id));
diesel::joinable!(milestones -> commitments (commitment_id));
diesel::joinable!(commitment_ogp_values -> commitments (commitment_id));
diesel::joinable!(record_sources -> sources (source_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    members,
    institutions,
    action_plans,
    commitments,
    commitment_ogp_values,
    milestones,
    co_creation_spaces,
    endorsements,
    involvements,
    assessments,
    progress_updates,
    record_sources,
    localized_texts,
    field_provenance,
    registries,
    releases,
    changes,
    plan_record_versions,
    change_retention,
);

diesel::table! {
    registries (slug) {
        slug -> Text,
        sample -> Bool,
        geometry_kind -> Text,
        id_field -> Text,
        fields_json -> Text,
        indexes_json -> Text,
        license -> Nullable<Text>,
        license_url -> Nullable<Text>,
        publisher_id -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        update_frequency -> Nullable<Text>,
        languages -> Text,
        issued -> Nullable<Text>,
        modified -> Nullable<Text>,
        spatial -> Nullable<Text>,
        related_commitment_id -> Nullable<Text>,
        table_name -> Text,
        item_count -> BigInt,
        imported_at -> Nullable<Text>,
    }
}

diesel::table! {
    releases (id) {
        id -> BigInt,
        dataset -> Text,
        number -> BigInt,
        created_at -> Text,
        row_count -> BigInt,
        added -> BigInt,
        changed -> BigInt,
        removed -> BigInt,
        sha256 -> Text,
        origin -> Text,
        byte_size -> Nullable<BigInt>,
    }
}

diesel::table! {
    changes (id) {
        id -> BigInt,
        release_id -> BigInt,
        record_type -> Text,
        record_id -> Text,
        op -> Text,
    }
}

diesel::table! {
    plan_record_versions (record_type, record_id, valid_from) {
        record_type -> Text,
        record_id -> Text,
        valid_from -> BigInt,
        valid_to -> Nullable<BigInt>,
        document -> Text,
    }
}

diesel::table! {
    change_retention (id) {
        id -> Integer,
        pruned_through -> BigInt,
    }
}

diesel::joinable!(changes -> releases (release_id));

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        scopes -> Text,
        token_sha256 -> Text,
        created_at -> Text,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Text,
        actor -> Text,
        action -> Text,
        target -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        release_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    imports (id) {
        id -> BigInt,
        registry -> Text,
        status -> Text,
        started_at -> Text,
        finished_at -> Nullable<Text>,
        actor -> Text,
        file_name -> Nullable<Text>,
        media_type -> Text,
        bytes -> BigInt,
        sha256 -> Text,
        idempotency_key -> Nullable<Text>,
        release_id -> Nullable<BigInt>,
        problem_json -> Nullable<Text>,
    }
}
