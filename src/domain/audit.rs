//! The vocabulary of the audit trail: what was done (`action`) to what
//! (`resource_type`). A record names them only through these sets, so an
//! auditor filtering on a value finds every record of it, and a new
//! resource cannot be audited under a misspelt name.

closed_set! {
    /// What a record says was done.
    pub enum AuditAction {
        /// A referral accepted into a pathway.
        Accept => "accept",
        /// A person anonymised at the end of the retention period.
        Anonymise => "anonymise",
        /// A pathway handed to another referent.
        AssignReferent => "assign_referent",
        /// An operation refused to the caller's role (outcome `denied`).
        Authorize => "authorize",
        /// An account holder changed their own password.
        ChangePassword => "change_password",
        /// A record created.
        Create => "create",
        /// A referral declined.
        Decline => "decline",
        /// A record removed (a webhook endpoint).
        Delete => "delete",
        /// A pseudonymised export pulled.
        Export => "export",
        /// A list read; `result_ids` are the records it returned.
        List => "list",
        /// A login or token request (its outcome says whether it succeeded).
        Login => "login",
        /// Records purged at the end of their retention period.
        Purge => "purge",
        /// One record read.
        Read => "read",
        /// A person's access log read.
        ReadAccessLog => "read_access_log",
        /// Where a person is followed outside the caller's domains and
        /// territories looked at (`result_ids`: the pathways shown).
        ReadOtherPathways => "read_other_pathways",
        /// A partner's referral received.
        Refer => "refer",
        /// An organization's answer to a commitment recorded by staff on
        /// its behalf (received by phone, letter…).
        RecordAnswer => "record_answer",
        /// A retried request answered from its stored response (`Idempotency-Key`).
        Replay => "replay",
        /// A domain's opening date moved.
        Reschedule => "reschedule",
        /// An admin gave an account a one-time password.
        ResetPassword => "reset_password",
        /// A webhook delivery sent again by hand.
        RetryDelivery => "retry_delivery",
        /// A client or webhook secret replaced.
        RotateSecret => "rotate_secret",
        /// A search; its terms only as keyed hashes in `query`.
        Search => "search",
        /// A pathway flagged, or escalated, as a critical situation.
        SetCritical => "set_critical",
        /// A pathway no longer a critical situation.
        ClearCritical => "clear_critical",
        /// A person's whole file handed over (right of access).
        SubjectAccess => "subject_access",
        /// A request with a token that was refused (expired, revoked, forged).
        TokenRefused => "token_refused",
        /// A status moved along its state machine.
        Transition => "transition",
        /// A record changed; `query` holds it before and after where kept.
        Update => "update",
        /// The audit chain verified.
        Verify => "verify",
    }
}

closed_set! {
    /// Who a record says acted.
    pub enum ActorKind {
        /// A staff account.
        User => "user",
        /// A partner client.
        Client => "client",
        /// Nobody known: a refused token, a failed login.
        Anonymous => "anonymous",
        /// parcours itself: the command line's purge, the sealer.
        System => "system",
    }
}

closed_set! {
    /// The kind of resource a record is about.
    pub enum AuditTarget {
        /// The caseload's alerts.
        Alert => "alert",
        /// A rule of the alerts on ages and legal deadlines (the record
        /// names it, with its setting before and after).
        AlertRule => "alert_rule",
        /// The audit trail itself.
        Audit => "audit",
        /// A partner client.
        Client => "client",
        /// A commitment of a plan.
        Commitment => "commitment",
        /// A commune's territory (the record names the commune).
        Commune => "commune",
        /// An authority's decision.
        Decision => "decision",
        /// A domain's opening date.
        Domain => "domain",
        /// A critical situation escalated to an organization.
        Escalation => "escalation",
        /// A facility's follow-up of an orientation (and its statuses).
        FacilityFollowUp => "facility_follow_up",
        /// A partner's change feed.
        Feed => "feed",
        /// A stored response to an `Idempotency-Key`.
        IdempotentResponse => "idempotent_response",
        /// A GOS meeting.
        Meeting => "meeting",
        /// A note of a pathway.
        Note => "note",
        /// An organization.
        Organization => "organization",
        /// A pathway.
        Pathway => "pathway",
        /// A person.
        Person => "person",
        /// A support plan.
        Plan => "plan",
        /// A partner's referral.
        Referral => "referral",
        /// A territory.
        Territory => "territory",
        /// A pathway's timeline.
        Timeline => "timeline",
        /// A staff account.
        User => "user",
        /// A webhook endpoint or its deliveries.
        Webhook => "webhook",
    }
}
