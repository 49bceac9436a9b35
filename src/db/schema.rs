// @generated automatically by Diesel CLI.

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        scopes -> Array<Text>,
        prefix -> Text,
        secret_hash -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        last_used_ip -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    background_jobs (id) {
        id -> Int8,
        job_type -> Text,
        data -> Jsonb,
        dedupe_key -> Nullable<Text>,
        priority -> Int2,
        retries -> Int4,
        last_error -> Nullable<Text>,
        run_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    do_not_call (id) {
        id -> Uuid,
        owner_id -> Nullable<Uuid>,
        phone -> Text,
        reason -> Text,
        source -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Text,
        ip -> Text,
        failed_at -> Timestamptz,
    }
}

diesel::table! {
    periodic_jobs (name) {
        name -> Text,
        next_run_at -> Timestamptz,
        last_run_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    signup_attempts (id) {
        id -> Int8,
        ip -> Text,
        attempted_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        status -> Text,
        token_version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    call_events (id) {
        id -> Int8,
        call_id -> Uuid,
        kind -> Text,
        source -> Text,
        status -> Nullable<Text>,
        sequence_number -> Nullable<Int4>,
        detail -> Jsonb,
        applied -> Bool,
        occurred_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    calls (id) {
        id -> Uuid,
        owner_id -> Uuid,
        twilio_account_id -> Uuid,
        did_id -> Nullable<Uuid>,
        twilio_sid -> Nullable<Text>,
        direction -> Text,
        from_number -> Text,
        to_number -> Text,
        status -> Text,
        answered_by -> Nullable<Text>,
        duration_secs -> Nullable<Int4>,
        answered_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        campaign_id -> Nullable<Uuid>,
        contact_id -> Nullable<Int8>,
        attempt -> Nullable<Int4>,
        leg -> Nullable<Text>,
        parent_sid -> Nullable<Text>,
        cost_vnd -> Int8,
    }
}

diesel::table! {
    number_allowances (id) {
        id -> Uuid,
        kind -> Text,
        value -> Text,
        note -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    campaign_contacts (id) {
        id -> Int8,
        campaign_id -> Uuid,
        phone -> Text,
        country -> Nullable<Text>,
        name -> Text,
        vars -> Jsonb,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        last_outcome -> Nullable<Text>,
        skip_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Uuid,
        owner_id -> Uuid,
        name -> Text,
        status -> Text,
        purpose -> Text,
        consent_basis -> Nullable<Text>,
        consent_source -> Nullable<Text>,
        consent_collected_at -> Nullable<Timestamptz>,
        default_country -> Text,
        message -> Jsonb,
        menu -> Nullable<Jsonb>,
        amd_mode -> Text,
        caller_id_dids -> Array<Uuid>,
        schedule -> Jsonb,
        calls_per_second -> Float8,
        max_concurrent -> Int4,
        max_attempts -> Int4,
        retry_on -> Array<Text>,
        retry_delay_secs -> Int4,
        pause_reason -> Nullable<Text>,
        started_at -> Nullable<Timestamptz>,
                completed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        dispatch_next_at -> Timestamptz,
    }
}

diesel::table! {
    imports (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        owner_id -> Uuid,
        status -> Text,
        failure_reason -> Nullable<Text>,
        file_name -> Text,
        file_bytes -> Int8,
        rows_read -> Int8,
        rows_imported -> Int8,
        duplicates -> Int8,
        invalid -> Int8,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    import_file_parts (import_id, part_no) {
        import_id -> Uuid,
        part_no -> Int4,
        data -> Bytea,
    }
}

diesel::table! {
    import_errors (import_id, row_no) {
        import_id -> Uuid,
        row_no -> Int8,
        value -> Text,
        reason -> Text,
    }
}

diesel::table! {
    dids (id) {
        id -> Uuid,
        twilio_account_id -> Uuid,
        phone_number -> Text,
        twilio_sid -> Text,
        country -> Text,
        friendly_name -> Text,
        status -> Text,
        assigned_user_id -> Nullable<Uuid>,
        forward_to -> Nullable<Text>,
        inbound_message -> Nullable<Text>,
        voice_url -> Nullable<Text>,
        status_callback -> Nullable<Text>,
        calls_24h -> Int4,
        answer_rate_24h -> Nullable<Float8>,
        failure_rate_24h -> Nullable<Float8>,
        calls_7d -> Int4,
        answer_rate_7d -> Nullable<Float8>,
        failure_rate_7d -> Nullable<Float8>,
        health_checked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        released_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    twilio_accounts (id) {
        id -> Uuid,
        name -> Text,
        account_sid -> Text,
        auth_token_sealed -> Text,
        auth_token_last4 -> Text,
        api_base_url -> Text,
        calls_per_second -> Float8,
        status -> Text,
        is_simulated -> Bool,
        balance -> Nullable<Text>,
        balance_currency -> Nullable<Text>,
        last_error -> Nullable<Text>,
                last_checked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        dispatch_next_at -> Timestamptz,
    }
}

diesel::table! {
    unmatched_payments (id) {
        id -> Uuid,
        provider -> Text,
        txn_id -> Text,
        amount -> Int8,
        top_up_id -> Nullable<Uuid>,
        user_id -> Nullable<Uuid>,
        reason -> Text,
        reference -> Nullable<Text>,
        status -> Text,
        resolution_note -> Nullable<Text>,
        resolved_by -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Int8,
        provider -> Text,
        kind -> Text,
        dedupe_key -> Text,
        call_id -> Nullable<Uuid>,
        payload -> Jsonb,
        processed_at -> Nullable<Timestamptz>,
        error -> Nullable<Text>,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(call_events -> calls (call_id));
diesel::joinable!(calls -> campaign_contacts (contact_id));
diesel::joinable!(calls -> campaigns (campaign_id));
diesel::joinable!(campaign_contacts -> campaigns (campaign_id));
diesel::joinable!(campaigns -> users (owner_id));
diesel::joinable!(calls -> dids (did_id));
diesel::joinable!(calls -> twilio_accounts (twilio_account_id));
diesel::joinable!(calls -> users (owner_id));
diesel::joinable!(dids -> twilio_accounts (twilio_account_id));
diesel::joinable!(imports -> campaigns (campaign_id));
diesel::joinable!(import_errors -> imports (import_id));
diesel::joinable!(import_file_parts -> imports (import_id));
diesel::joinable!(dids -> users (assigned_user_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    audit_log,
    background_jobs,
    call_events,
    calls,
    campaign_contacts,
    campaigns,
    dids,
    do_not_call,
    import_errors,
    import_file_parts,
    imports,
    login_failures,
    number_allowances,
    periodic_jobs,
    refresh_tokens,
    twilio_accounts,
    users,
    webhook_events,
);
