//! Who may do what: docs/DOMAIN.md's roles as one table, and every other decision
//! that depends on the caller's role (who steers a pathway, who reads which
//! notes, whose caseload an alert list covers, what a partner may change,
//! which webhooks a caller owns, how far indicators and the access log
//! reach, who must send an `Idempotency-Key`). Scoping to territories,
//! domains and organizations is then enforced in the SQL of each query,
//! from what these functions decide.
//!
//! It lives in the pure layer because the queries of `db` read it; `auth`
//! re-exports it as `auth::policy`, the name the handlers use.

use uuid::Uuid;

use crate::domain::Role::{Admin, Auditor, Coordinator, Partner, Supervisor};
use crate::domain::commitment::is_answer;
use crate::domain::escalation::Side;
use crate::domain::principal::Principal;
use crate::domain::{CommitmentStatus, NoteVisibility, PathwayStatus, Role};

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
    /// Read where a person stands in a facility an orientation is addressed
    /// to, and report its new statuses (partners: the follow-ups addressed
    /// to their organization; staff: those of their pathways).
    FollowOrientations,
    /// Read the critical situations escalated (partners: to their
    /// organization; staff: of their pathways) and record the recipient's
    /// acknowledgement and answer ([`may_move_escalation`] says who moves
    /// which).
    FollowEscalations,
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
    (
        Action::FollowOrientations,
        &[Supervisor, Coordinator, Partner],
    ),
    (
        Action::FollowEscalations,
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

/// One type per action, with its `Permission`: the action's own name.
macro_rules! permissions {
    ($($action:ident),+ $(,)?) => {$(
        #[doc = concat!("The permission to take `Action::", stringify!($action), "`.")]
        pub struct $action;
        impl Permission for $action {
            const ACTION: Action = Action::$action;
        }
    )+};
}

permissions!(
    ReadReferenceData,
    ManageReferenceData,
    ManageAccounts,
    WorkOnCases,
    AssignReferent,
    UpdateCommitments,
    FollowOrientations,
    FollowEscalations,
    ReferPersons,
    TriageReferrals,
    FollowPathways,
    ManageWebhooks,
    ReadIndicators,
    ReadAuditTrail,
    ReadAccessLog,
    ExportPseudonymised,
    SubjectAccess,
);

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
pub fn may_change_account(who: &Principal, target: Uuid) -> bool {
    allows(who.role, Action::ManageAccounts) && who.subject.id() != target
}

pub fn allows(role: Role, action: Action) -> bool {
    TABLE
        .iter()
        .find(|(listed, _)| *listed == action)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// Steering a pathway (moving its status, closing it, flagging it critical):
/// supervisors may for any pathway they can see, coordinators only for those
/// they are the referent of.
pub fn may_steer(role: Role, caller: Uuid, referent: Option<Uuid>) -> bool {
    match role {
        Supervisor => true,
        Coordinator => referent == Some(caller),
        _ => false,
    }
}

/// Moving a pathway's status: staff who see it may record any move (a
/// colleague on duty records a move; the timeline names who did), but
/// closing it is steering: its referent's or a supervisor's.
pub fn may_move_pathway(
    role: Role,
    caller: Uuid,
    referent: Option<Uuid>,
    to: PathwayStatus,
) -> bool {
    match (role, to) {
        (_, PathwayStatus::Closed) => may_steer(role, caller, referent),
        (Supervisor | Coordinator, _) => true,
        _ => false,
    }
}

/// Moving an escalation: the recipient's side (acknowledge, answer) is
/// its partner client's — the SQL scope keeps a partner to its own
/// organization's — or staff who steer the pathway, recording what the
/// recipient said; the département's side (close) is only theirs.
pub fn may_move_escalation(role: Role, caller: Uuid, referent: Option<Uuid>, side: Side) -> bool {
    match (role, side) {
        (Partner, Side::Recipient) => true,
        _ => may_steer(role, caller, referent),
    }
}

/// The roles a pathway's referent may have.
pub const REFERENT_ROLES: [Role; 2] = [Coordinator, Supervisor];

/// Who refers a pathway they open without naming a referent: a coordinator
/// becomes its referent; a supervisor leaves it to be assigned.
pub fn default_referent(who: &Principal) -> Option<Uuid> {
    (who.role == Coordinator).then(|| who.subject.id())
}

/// Which notes of a pathway in scope a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteReach {
    /// Every note (supervisors).
    All,
    /// `team` notes, and the caller's own restricted ones (coordinators).
    TeamAndOwn(Uuid),
    /// None (partners, admins and auditors never read notes).
    Nothing,
}

pub fn note_reach(who: &Principal) -> NoteReach {
    match who.role {
        Supervisor => NoteReach::All,
        Coordinator => NoteReach::TeamAndOwn(who.subject.id()),
        _ => NoteReach::Nothing,
    }
}

/// Whether a note of `visibility` by `author` is one `who` reads.
pub fn reads_note(who: &Principal, visibility: NoteVisibility, author: Uuid) -> bool {
    match note_reach(who) {
        NoteReach::All => true,
        NoteReach::TeamAndOwn(me) => visibility == NoteVisibility::Team || author == me,
        NoteReach::Nothing => false,
    }
}

/// Whose caseload a list of alerts covers: a coordinator's own pathways;
/// `None` for a supervisor (every pathway of their scope).
pub fn caseload_of(who: &Principal) -> Option<Uuid> {
    (who.role == Coordinator).then(|| who.subject.id())
}

/// Whether a caller's indicators and access-log reads cover every
/// territory and domain (auditors), rather than the caller's own.
pub fn reads_everywhere(role: Role) -> bool {
    role == Auditor
}

/// What of a commitment a caller may change: partners only its status.
pub fn changes_only_commitment_status(role: Role) -> bool {
    role == Partner
}

/// Whether `role` may move a commitment to `to`: its organization (a
/// partner) answers the proposal, carries it out or reports it broken;
/// cancelling it or proposing it again is the referent's. An answer
/// (`accepted`, `refused`) is the organization's own: staff record one
/// only `on_behalf` of the organization, when it answered another way.
pub fn may_set_commitment_status(role: Role, to: CommitmentStatus, on_behalf: bool) -> bool {
    match role {
        Supervisor | Coordinator => !is_answer(to) || on_behalf,
        Partner => {
            !on_behalf && !matches!(to, CommitmentStatus::Cancelled | CommitmentStatus::Proposed)
        }
        Admin | Auditor => false,
    }
}

/// Whose webhooks a caller manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOwner {
    /// Its own organization's (a partner).
    Organization(Uuid),
    /// Any partner organization's (an admin).
    Any,
    /// None.
    Nobody,
}

pub fn webhook_owner(who: &Principal) -> WebhookOwner {
    match (who.role, who.organization) {
        (Partner, Some(organization)) => WebhookOwner::Organization(organization),
        (Admin, _) => WebhookOwner::Any,
        _ => WebhookOwner::Nobody,
    }
}

/// The organization whose followed pathways (the SQL view
/// `partner_pathways`) a caller reads: a partner's own; none for staff.
pub fn partner_organization(who: &Principal) -> Option<Uuid> {
    match (who.role, who.organization) {
        (Partner, Some(organization)) => Some(organization),
        _ => None,
    }
}

/// Whether every change a caller posts must carry an `Idempotency-Key`
/// (machine clients retry; people's front-ends may send one).
pub fn idempotency_key_required(role: Role) -> bool {
    role == Partner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_manage_accounts_and_nobody_else_does() {
        for role in Role::VALUES.iter().copied() {
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
        for role in [Admin, Auditor] {
            assert!(!allows(role, Action::FollowOrientations), "{role:?}");
        }
        use CommitmentStatus::{Accepted, Cancelled, Proposed, Refused};
        for to in CommitmentStatus::VALUES.iter().copied() {
            let answer = matches!(to, Accepted | Refused);
            for staff in [Coordinator, Supervisor] {
                // Staff answer only on the organization's behalf.
                assert_eq!(
                    may_set_commitment_status(staff, to, false),
                    !answer,
                    "{to:?}"
                );
                assert!(may_set_commitment_status(staff, to, true), "{to:?}");
            }
            assert!(!may_set_commitment_status(Auditor, to, false), "{to:?}");
            // A partner answers as itself, never on another's behalf.
            assert!(!may_set_commitment_status(Partner, to, true), "{to:?}");
        }
        assert!(may_set_commitment_status(Partner, Accepted, false));
        assert!(may_set_commitment_status(Partner, Refused, false));
        assert!(!may_set_commitment_status(Partner, Cancelled, false));
        assert!(!may_set_commitment_status(Partner, Proposed, false));
        for role in Role::VALUES.iter().copied() {
            assert_eq!(
                allows(role, Action::ReferPersons),
                role == Partner,
                "{role:?}"
            );
        }
    }

    #[test]
    fn coordinators_steer_only_their_own_pathways() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert!(may_steer(Coordinator, me, Some(me)));
        assert!(!may_steer(Coordinator, me, Some(other)));
        assert!(!may_steer(Coordinator, me, None));
        assert!(may_steer(Supervisor, me, Some(other)));
        assert!(!may_steer(Partner, me, Some(me)));
        assert!(!may_steer(Admin, me, Some(me)));
    }

    #[test]
    fn staff_who_see_a_pathway_move_it_and_only_who_steers_closes_it() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        for &to in PathwayStatus::VALUES {
            let closing = to == PathwayStatus::Closed;
            assert_eq!(may_move_pathway(Coordinator, me, Some(other), to), !closing);
            assert!(may_move_pathway(Coordinator, me, Some(me), to));
            assert!(may_move_pathway(Supervisor, me, None, to));
            for role in [Partner, Admin, Auditor] {
                assert!(!may_move_pathway(role, me, Some(me), to), "{role:?}");
            }
        }
    }

    #[test]
    fn a_partner_answers_escalations_and_only_the_department_closes_them() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert!(may_move_escalation(
            Partner,
            me,
            Some(other),
            Side::Recipient
        ));
        assert!(!may_move_escalation(Partner, me, Some(me), Side::Sender));
        for side in [Side::Recipient, Side::Sender] {
            assert!(may_move_escalation(Supervisor, me, Some(other), side));
            assert!(may_move_escalation(Coordinator, me, Some(me), side));
            assert!(!may_move_escalation(Coordinator, me, Some(other), side));
            assert!(!may_move_escalation(Admin, me, Some(me), side));
            assert!(!may_move_escalation(Auditor, me, Some(me), side));
        }
        for role in [Admin, Auditor] {
            assert!(!allows(role, Action::FollowEscalations), "{role:?}");
        }
    }

    fn caller(role: Role) -> Principal {
        Principal {
            subject: crate::domain::principal::Subject::User(Uuid::now_v7()),
            role,
            territories: vec![],
            domains: vec![],
            organization: (role == Partner).then(Uuid::now_v7),
            session: None,
        }
    }

    /// Every role-dependent decision, role by role: what each may reach.
    #[test]
    fn each_role_reaches_what_design_md_says() {
        use NoteVisibility::{Restricted, Team};
        // role, reads a colleague's team note, a colleague's restricted note,
        // caseload only, everywhere, status only, webhooks, key required
        type Row = (Role, bool, bool, bool, bool, bool, &'static str, bool);
        let table: [Row; 5] = [
            (Admin, false, false, false, false, false, "any", false),
            (Supervisor, true, true, false, false, false, "nobody", false),
            (
                Coordinator,
                true,
                false,
                true,
                false,
                false,
                "nobody",
                false,
            ),
            (Partner, false, false, false, false, true, "own", true),
            (Auditor, false, false, false, true, false, "nobody", false),
        ];
        let colleague = Uuid::now_v7();
        for (role, team, restricted, caseload, everywhere, status_only, hooks, key) in table {
            let who = caller(role);
            assert_eq!(reads_note(&who, Team, colleague), team, "{role:?}");
            assert_eq!(
                reads_note(&who, Restricted, colleague),
                restricted,
                "{role:?}"
            );
            assert_eq!(caseload_of(&who).is_some(), caseload, "{role:?}");
            assert_eq!(reads_everywhere(role), everywhere, "{role:?}");
            assert_eq!(
                changes_only_commitment_status(role),
                status_only,
                "{role:?}"
            );
            let owner = match webhook_owner(&who) {
                WebhookOwner::Any => "any",
                WebhookOwner::Organization(_) => "own",
                WebhookOwner::Nobody => "nobody",
            };
            assert_eq!(owner, hooks, "{role:?}");
            assert_eq!(idempotency_key_required(role), key, "{role:?}");
            assert_eq!(
                partner_organization(&who).is_some(),
                role == Partner,
                "{role:?}"
            );
            assert_eq!(
                REFERENT_ROLES.contains(&role),
                allows(role, Action::WorkOnCases)
            );
        }
        // One's own restricted notes stay readable to a coordinator.
        let coordinator = caller(Coordinator);
        assert!(reads_note(
            &coordinator,
            Restricted,
            coordinator.subject.id()
        ));
        assert_eq!(
            default_referent(&coordinator),
            Some(coordinator.subject.id())
        );
        assert_eq!(default_referent(&caller(Supervisor)), None);
    }
}
