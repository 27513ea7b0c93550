//! Where a person stands in a facility (ESMS) an orientation names: the
//! ANS value sets that the CNSA's orientation follow-up and the « suivi des
//! décisions d'orientation » guide use, so that a facility's software
//! speaks to parcours in the codes it already has.
//!
//! - statuses: JDV_J252 « Statut de la personne prise en charge au sein
//!   d'un ESMS », codes of TRE_R357;
//! - reasons: JDV_J251 « Motif du statut … au sein d'un ESMS », codes of
//!   TRE_R358;
//! - which reason goes with which status: the association ASS_A32, kept to
//!   the reasons of JDV_J251. A status the association gives reasons for
//!   requires one of them; the others take none.
//!
//! Source: `ansforge/IG-terminologie-de-sante` (terminologies v1.12.0; the
//! value sets' version 20230922120000, the association's 20250411120000).

use crate::domain::DecisionKind;
pub use crate::domain::coding::Coding;
use crate::domain::refusal::{FieldError, Refusal};

/// The code system of the statuses.
pub const STATUS_SYSTEM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R357-StatutPersonnePriseCharge/FHIR/TRE-R357-StatutPersonnePriseCharge";
/// The code system of the reasons.
pub const REASON_SYSTEM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R358-MotifStatutPersonnePriseCharge/FHIR/TRE-R358-MotifStatutPersonnePriseCharge";

closed_set! {
    /// What a facility's current status says of its answer to the orientation.
    pub enum Outcome {
        /// Under way: notified, contacted, on the waiting list, admissible.
        Pending => "pending",
        /// The facility admits the person: admitted, on trial, entered.
        Admits => "admits",
        /// The facility cannot admit the person (admission impossible, trial
        /// inconclusive).
        Refuses => "refuses",
        /// The notification or the decision no longer stands, or the person left.
        Withdrawn => "withdrawn",
    }
}

/// One status of JDV_J252.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub code: &'static str,
    pub display: &'static str,
    pub outcome: Outcome,
    /// The reasons of JDV_J251 it takes (ASS_A32); empty: none.
    pub reasons: &'static [&'static str],
}

use Outcome::{Admits, Pending, Refuses, Withdrawn};

/// ASS_A32's reasons for « admission impossible », signalled or confirmed.
const ADMISSION_IMPOSSIBLE: &[&str] = &[
    "86", "113", "114", "115", "116", "117", "118", "119", "120", "121", "122", "124", "127", "148",
];

/// JDV_J252, in code order.
pub const STATUSES: &[Status] = &[
    Status {
        code: "37",
        display: "Décision d'orientation annulée",
        outcome: Withdrawn,
        reasons: &["112", "124", "173", "174"],
    },
    Status {
        code: "39",
        display: "Notification envoyée",
        outcome: Pending,
        reasons: &[],
    },
    Status {
        code: "40",
        display: "Notification lue",
        outcome: Pending,
        reasons: &[],
    },
    Status {
        code: "41",
        display: "Contact effectué",
        outcome: Pending,
        reasons: &["150", "151", "152", "153"],
    },
    Status {
        code: "42",
        display: "Liste d'attente. En cours d'analyse, demande d'admission reçue dans l'ESMS",
        outcome: Pending,
        reasons: &[],
    },
    Status {
        code: "43",
        display: "Période d'essai en cours dans l'ESMS",
        outcome: Admits,
        reasons: &[],
    },
    Status {
        code: "44",
        display: "Période d'essai non concluante dans l'ESMS",
        outcome: Refuses,
        reasons: &[],
    },
    Status {
        code: "45",
        display: "Admission impossible signalée",
        outcome: Refuses,
        reasons: ADMISSION_IMPOSSIBLE,
    },
    Status {
        code: "46",
        display: "Admission impossible entérinée",
        outcome: Refuses,
        reasons: ADMISSION_IMPOSSIBLE,
    },
    Status {
        code: "47",
        display: "Usager entré",
        outcome: Admits,
        reasons: &[],
    },
    Status {
        code: "48",
        display: "Usager sorti",
        outcome: Withdrawn,
        reasons: &[],
    },
    Status {
        code: "49",
        display: "Notification annulée",
        outcome: Withdrawn,
        reasons: &["109", "112", "124", "173", "174"],
    },
    Status {
        code: "51",
        display: "Demande de réorientation dans l'ESMS",
        outcome: Pending,
        reasons: &[],
    },
    Status {
        code: "54",
        display: "Notification réactivée",
        outcome: Pending,
        reasons: &["109", "112", "168", "170"],
    },
    Status {
        code: "71",
        display: "Liste d'attente. Admis dans l'ESMS",
        outcome: Admits,
        reasons: &[],
    },
    Status {
        code: "72",
        display: "Liste d'attente. Admissible dans l'ESMS",
        outcome: Pending,
        reasons: &[],
    },
];

/// JDV_J251, in code order.
pub const REASONS: &[(&str, &str)] = &[
    (
        "86",
        "Le plateau technique n'est pas adapté à la prise en charge de l'usager",
    ),
    ("109", "Déménagement"),
    ("112", "Erreur d'utilisation du logiciel"),
    ("113", "Eloignement géographique"),
    ("114", "Les ressources de l'ESMS ne sont pas suffisantes"),
    (
        "115",
        "L'ESMS n'est pas adapté au projet de vie actuel de l'usager",
    ),
    ("116", "Le type de handicap ne relève pas de l'ESMS"),
    (
        "117",
        "La situation de l'usager a changé, l'ESMS n'est pas adapté",
    ),
    (
        "118",
        "L'usager ou son représentant légal refuse de s'inscrire dans l'ESMS",
    ),
    (
        "119",
        "L'usager a été admis dans un autre ESMS, l'orientation n'est plus pertinente",
    ),
    (
        "120",
        "L'usager a déménagé, l'orientation n'est plus pertinente géographiquement",
    ),
    (
        "121",
        "L'usager ou son représentant légal refuse d'adhérer au projet de vie de l'ESMS",
    ),
    ("122", "L'âge de l'usager est incompatible"),
    ("124", "L'usager est décédé"),
    (
        "127",
        "L'usager a fait valoir ses droits à la retraite (ESAT)",
    ),
    ("148", "L'ESMS n'a pas réussi à joindre l'usager"),
    ("150", "L'usager a pris contact avec l'ESMS"),
    ("151", "L'ESMS a pris contact avec l'usager"),
    ("152", "L'usager a visité l'ESMS"),
    ("153", "L'ESMS a envoyé une documentation à l'usager"),
    ("168", "Pour placer l'usager en liste d'attente"),
    ("170", "Pour prendre en charge l'usager à temps adapté"),
    (
        "173",
        "Une autre décision annule et remplace cette décision",
    ),
    ("174", "Décision clôturée par la MDPH"),
];

/// The status of code `code`, if JDV_J252 holds it.
pub fn status(code: &str) -> Option<&'static Status> {
    STATUSES.iter().find(|s| s.code == code)
}

/// The codes of the statuses that say `outcome` (the refusals, say).
pub fn codes_of(outcome: Outcome) -> Vec<&'static str> {
    STATUSES
        .iter()
        .filter(|s| s.outcome == outcome)
        .map(|s| s.code)
        .collect()
}

/// The label of reason `code`, if JDV_J251 holds it.
pub fn reason_display(code: &str) -> Option<&'static str> {
    REASONS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// Whether a decision is « sans solution »: an orientation (a rejection
/// or a deferral is none) not put into effect, that no facility it is
/// addressed to admits the person to (`statuses`: the current status of
/// each, if any).
pub fn decision_without_solution<'a>(
    kind: DecisionKind,
    implemented: bool,
    mut statuses: impl Iterator<Item = Option<&'a str>>,
) -> bool {
    kind == DecisionKind::Orientation
        && !implemented
        && !statuses.any(|code| {
            code.and_then(status)
                .is_some_and(|s| s.outcome == Outcome::Admits)
        })
}

/// The coding of a status held (its code came from [`parse`]).
pub fn status_coding(code: &str) -> Coding {
    Coding {
        system: STATUS_SYSTEM.into(),
        code: code.into(),
        display: status(code).map(|s| s.display.into()),
    }
}

/// The coding of a reason held.
pub fn reason_coding(code: &str) -> Coding {
    Coding {
        system: REASON_SYSTEM.into(),
        code: code.into(),
        display: reason_display(code).map(Into::into),
    }
}

/// A status with its reason, each known to its value set and to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusWithReason {
    pub status: &'static Status,
    pub reason: Option<&'static str>,
}

/// Why a status and reason were refused, with the field to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub field: &'static str,
    pub message: String,
}

impl From<Rejected> for Refusal {
    fn from(rejected: Rejected) -> Self {
        Refusal::invalid(
            "Some fields are not valid.",
            vec![FieldError::new(rejected.field, rejected.message)],
        )
    }
}

fn rejected(field: &'static str, message: impl Into<String>) -> Rejected {
    Rejected {
        field,
        message: message.into(),
    }
}

/// Reads a status and its reason: each in its system and value set, the
/// reason present exactly when ASS_A32 gives the status reasons, and one of
/// those. The codes are never echoed in the messages.
pub fn parse(status: &Coding, reason: Option<&Coding>) -> Result<StatusWithReason, Rejected> {
    if status.system != STATUS_SYSTEM {
        return Err(rejected(
            "status.system",
            format!("must be {STATUS_SYSTEM} (TRE_R357)"),
        ));
    }
    let Some(known) = self::status(&status.code) else {
        return Err(rejected(
            "status.code",
            "must be a status of JDV_J252 (statut de la personne prise en charge au sein d'un ESMS)",
        ));
    };
    let reason = match (reason, known.reasons.is_empty()) {
        (None, true) => None,
        (None, false) => {
            return Err(rejected("reason", "is required with this status (ASS_A32)"));
        }
        (Some(_), true) => {
            return Err(rejected("reason", "must be absent: this status takes none"));
        }
        (Some(reason), false) => {
            if reason.system != REASON_SYSTEM {
                return Err(rejected(
                    "reason.system",
                    format!("must be {REASON_SYSTEM} (TRE_R358)"),
                ));
            }
            let Some(code) = known.reasons.iter().find(|c| **c == reason.code) else {
                return Err(rejected(
                    "reason.code",
                    "must be a reason of JDV_J251 that ASS_A32 associates with this status",
                ));
            };
            Some(*code)
        }
    };
    Ok(StatusWithReason {
        status: known,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(system: &str, code: &str) -> Coding {
        Coding {
            system: system.into(),
            code: code.into(),
            display: None,
        }
    }

    #[test]
    fn every_reason_a_status_takes_is_in_the_reason_value_set() {
        for status in STATUSES {
            for reason in status.reasons {
                assert!(reason_display(reason).is_some(), "{} {reason}", status.code);
            }
        }
        // Sixteen statuses, twenty-four reasons: JDV_J252 and JDV_J251 as published.
        assert_eq!(STATUSES.len(), 16);
        assert_eq!(REASONS.len(), 24);
    }

    #[test]
    fn an_orientation_has_a_solution_once_a_facility_admits_or_it_is_in_effect() {
        use DecisionKind::{Orientation, Rejection};
        let pending = [None, Some("42"), Some("45")];
        assert!(decision_without_solution(
            Orientation,
            false,
            pending.into_iter()
        ));
        assert!(decision_without_solution(
            Orientation,
            false,
            std::iter::empty()
        ));
        let admitted = [Some("45"), Some("71")];
        assert!(!decision_without_solution(
            Orientation,
            false,
            admitted.into_iter()
        ));
        assert!(!decision_without_solution(
            Orientation,
            true,
            pending.into_iter()
        ));
        // The person left: no longer admitted there.
        assert!(decision_without_solution(
            Orientation,
            false,
            [Some("48")].into_iter()
        ));
        // A rejection is no orientation: nothing to be without.
        assert!(!decision_without_solution(
            Rejection,
            false,
            std::iter::empty()
        ));
    }

    #[test]
    fn a_refusal_needs_one_of_its_reasons() {
        let refused = coding(STATUS_SYSTEM, "45");
        assert_eq!(parse(&refused, None).unwrap_err().field, "reason");
        let far = coding(REASON_SYSTEM, "113");
        let parsed = parse(&refused, Some(&far)).unwrap();
        assert_eq!(parsed.status.outcome, Outcome::Refuses);
        assert_eq!(parsed.reason, Some("113"));
        // A reason of the set, but not one ASS_A32 gives this status.
        let visited = coding(REASON_SYSTEM, "152");
        assert_eq!(
            parse(&refused, Some(&visited)).unwrap_err().field,
            "reason.code"
        );
    }

    #[test]
    fn an_admission_takes_no_reason_and_codes_outside_the_sets_are_refused() {
        let admitted = coding(STATUS_SYSTEM, "71");
        assert_eq!(parse(&admitted, None).unwrap().status.outcome, Admits);
        let far = coding(REASON_SYSTEM, "113");
        assert_eq!(parse(&admitted, Some(&far)).unwrap_err().field, "reason");
        // 180 is a status of a unit (JDV_J253), not of an ESMS.
        let unit = coding(STATUS_SYSTEM, "180");
        assert_eq!(parse(&unit, None).unwrap_err().field, "status.code");
        let local = coding("urn:local", "71");
        assert_eq!(parse(&local, None).unwrap_err().field, "status.system");
        let wrong_system = coding(STATUS_SYSTEM, "113");
        let refused = coding(STATUS_SYSTEM, "46");
        assert_eq!(
            parse(&refused, Some(&wrong_system)).unwrap_err().field,
            "reason.system"
        );
    }
}
