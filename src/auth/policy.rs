//! Who may do what: DESIGN.md §2 as one table. Every permission decision on
//! a role is taken here; scoping to territories, domains and organizations is
//! then enforced in the SQL of each query.

use crate::domain::Role;
use crate::domain::Role::{Admin, Auditor, Coordinator, Partner, Supervisor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Territories, organizations (and the domain calendar): read.
    ReadReferenceData,
    /// Territories, organizations: create and change.
    ManageReferenceData,
    /// Staff users and partner clients: create, read, change, deactivate.
    ManageAccounts,
    /// Set one's own password (staff; partner clients have none).
    ChangeOwnPassword,
    /// Persons, pathways and everything under them: read and write, within
    /// the caller's territories and domains (scoped in SQL).
    WorkOnCases,
    /// Hand a pathway to another referent.
    AssignReferent,
    /// Change the status of a commitment (partners: their organization's only).
    UpdateCommitments,
    /// Refer a person and follow the referral (partner clients).
    ReferPersons,
    /// See the referral queue of one's territories and domains, and accept
    /// or decline its referrals (scoped in SQL).
    TriageReferrals,
    /// Follow the pathways in the partner's scope: their change feed and
    /// their minimal view.
    FollowPathways,
    /// Register and manage webhooks (a partner for its organization, an
    /// admin for any partner organization).
    ManageWebhooks,
    /// Read the RAPT indicators (supervisors: their territories and domains).
    ReadIndicators,
    /// Search and verify the audit trail.
    ReadAuditTrail,
    /// Read who touched one person's file (supervisors: their territories).
    ReadAccessLog,
    /// Export pseudonymised case data.
    ExportPseudonymised,
    /// Hand a person everything held about them (right of access).
    SubjectAccess,
}

/// The roles allowed each action; a role not listed is refused.
const TABLE: &[(Action, &[Role])] = &[
    (
        Action::ReadReferenceData,
        &[Admin, Supervisor, Coordinator, Partner, Auditor],
    ),
    (Action::ManageReferenceData, &[Admin]),
    (Action::ManageAccounts, &[Admin]),
    (
        Action::ChangeOwnPassword,
        &[Admin, Supervisor, Coordinator, Auditor],
    ),
    (Action::WorkOnCases, &[Supervisor, Coordinator]),
    (Action::AssignReferent, &[Supervisor]),
    (
        Action::UpdateCommitments,
        &[Supervisor, Coordinator, Partner],
    ),
    (Action::ReferPersons, &[Partner]),
    (Action::TriageReferrals, &[Supervisor, Coordinator]),
    (Action::FollowPathways, &[Partner]),
    (Action::ManageWebhooks, &[Admin, Partner]),
    (Action::ReadIndicators, &[Supervisor, Auditor]),
    (Action::ReadAuditTrail, &[Auditor]),
    (Action::ReadAccessLog, &[Supervisor, Auditor]),
    (Action::ExportPseudonymised, &[Auditor]),
    (Action::SubjectAccess, &[Supervisor]),
];

/// An action as a type, so that a handler states what it needs in its
/// signature (`Authorized<ManageAccounts>`) and the check runs before the
/// body is read: a refused caller learns nothing about the body's rules.
pub trait Permission {
    const ACTION: Action;
}

pub struct ReadReferenceData;
pub struct ManageReferenceData;
pub struct ManageAccounts;
pub struct WorkOnCases;
pub struct AssignReferent;
pub struct UpdateCommitments;
pub struct ReferPersons;
pub struct TriageReferrals;
pub struct FollowPathways;
pub struct ManageWebhooks;
pub struct ReadIndicators;
pub struct ReadAuditTrail;
pub struct ReadAccessLog;
pub struct ExportPseudonymised;
pub struct SubjectAccess;

impl Permission for ReadReferenceData {
    const ACTION: Action = Action::ReadReferenceData;
}
impl Permission for ManageReferenceData {
    const ACTION: Action = Action::ManageReferenceData;
}
impl Permission for ManageAccounts {
    const ACTION: Action = Action::ManageAccounts;
}
impl Permission for WorkOnCases {
    const ACTION: Action = Action::WorkOnCases;
}
impl Permission for AssignReferent {
    const ACTION: Action = Action::AssignReferent;
}
impl Permission for UpdateCommitments {
    const ACTION: Action = Action::UpdateCommitments;
}
impl Permission for ReferPersons {
    const ACTION: Action = Action::ReferPersons;
}
impl Permission for TriageReferrals {
    const ACTION: Action = Action::TriageReferrals;
}
impl Permission for FollowPathways {
    const ACTION: Action = Action::FollowPathways;
}
impl Permission for ManageWebhooks {
    const ACTION: Action = Action::ManageWebhooks;
}
impl Permission for ReadIndicators {
    const ACTION: Action = Action::ReadIndicators;
}
impl Permission for ReadAuditTrail {
    const ACTION: Action = Action::ReadAuditTrail;
}
impl Permission for ReadAccessLog {
    const ACTION: Action = Action::ReadAccessLog;
}
impl Permission for ExportPseudonymised {
    const ACTION: Action = Action::ExportPseudonymised;
}
impl Permission for SubjectAccess {
    const ACTION: Action = Action::SubjectAccess;
}

/// The duty a role belongs to: an account never moves from one to another
/// (separation of duties; create a new account instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Duty {
    Administration,
    CaseWork,
    Audit,
    Partnership,
}

fn duty(role: Role) -> Duty {
    match role {
        Admin => Duty::Administration,
        Supervisor | Coordinator => Duty::CaseWork,
        Auditor => Duty::Audit,
        Partner => Duty::Partnership,
    }
}

/// Whether an account of role `from` may be given role `to`: only within
/// one duty (a coordinator made supervisor, say).
pub fn role_change_allowed(from: Role, to: Role) -> bool {
    duty(from) == duty(to)
}

/// Whether `who` may change the account `target` (role, territories,
/// domains, activity, password reset): never its own, so that no admin can
/// give itself case-file access or a password it knows.
pub fn may_change_account(who: &crate::auth::Principal, target: uuid::Uuid) -> bool {
    allows(who.role, Action::ManageAccounts) && who.subject.id() != target
}

pub fn allows(role: Role, action: Action) -> bool {
    TABLE
        .iter()
        .find(|(listed, _)| *listed == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_manage_accounts_and_nobody_else_does() {
        for role in Role::ALL {
            assert_eq!(
                allows(role, Action::ManageAccounts),
                role == Admin,
                "{role:?}"
            );
            assert_eq!(
                allows(role, Action::ManageReferenceData),
                role == Admin,
                "{role:?}"
            );
            assert!(allows(role, Action::ReadReferenceData), "{role:?}");
        }
    }

    #[test]
    fn roles_move_within_one_duty_only() {
        assert!(role_change_allowed(Coordinator, Supervisor));
        assert!(role_change_allowed(Supervisor, Coordinator));
        for (from, to) in [
            (Admin, Supervisor),
            (Admin, Coordinator),
            (Admin, Auditor),
            (Supervisor, Admin),
            (Coordinator, Auditor),
            (Auditor, Admin),
            (Auditor, Supervisor),
        ] {
            assert!(!role_change_allowed(from, to), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn admins_and_auditors_never_work_on_case_files() {
        for role in [Admin, Auditor, Partner] {
            assert!(!allows(role, Action::WorkOnCases), "{role:?}");
            assert!(!allows(role, Action::AssignReferent), "{role:?}");
        }
        assert!(allows(Supervisor, Action::AssignReferent));
        assert!(!allows(Coordinator, Action::AssignReferent));
        assert!(allows(Partner, Action::UpdateCommitments));
        for role in Role::ALL {
            assert_eq!(
                allows(role, Action::ReferPersons),
                role == Partner,
                "{role:?}"
            );
        }
    }
}
