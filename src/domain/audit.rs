//! The vocabulary of the audit trail: what was done (`action`) to what
//! (`resource_type`). A record names them only through these sets, so an
//! auditor filtering on a value finds every record of it, and a new
//! resource cannot be audited under a misspelt name.

closed_set! {
    /// What a record says was done.
    pub enum AuditAction {
        Accept => "accept",
        Anonymise => "anonymise",
        AssignReferent => "assign_referent",
        Authorize => "authorize",
        ChangePassword => "change_password",
        Create => "create",
        Decline => "decline",
        Delete => "delete",
        Export => "export",
        List => "list",
        Login => "login",
        Purge => "purge",
        Read => "read",
        ReadAccessLog => "read_access_log",
        Refer => "refer",
        Replay => "replay",
        Reschedule => "reschedule",
        ResetPassword => "reset_password",
        RetryDelivery => "retry_delivery",
        RotateSecret => "rotate_secret",
        Search => "search",
        SetCritical => "set_critical",
        ClearCritical => "clear_critical",
        SubjectAccess => "subject_access",
        TokenRefused => "token_refused",
        Transition => "transition",
        Update => "update",
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
        Alert => "alert",
        Audit => "audit",
        Client => "client",
        Commitment => "commitment",
        Commune => "commune",
        Decision => "decision",
        Domain => "domain",
        Feed => "feed",
        IdempotentResponse => "idempotent_response",
        Meeting => "meeting",
        Note => "note",
        Organization => "organization",
        Pathway => "pathway",
        Person => "person",
        Plan => "plan",
        Referral => "referral",
        Territory => "territory",
        Timeline => "timeline",
        User => "user",
        Webhook => "webhook",
    }
}
