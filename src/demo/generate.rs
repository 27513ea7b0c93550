//! Deterministic generation of demo case files: each person and pathway is
//! drawn from one seeded RNG, with dates that follow the rollout calendar
//! and the state machines (a status change never precedes the previous one).
//!
//! `seed-demo` is a command run by an operator, never a request: its indices
//! come from its own fixed tables and loops, so the lint that keeps request
//! code from indexing is lifted here alone.
#![allow(clippy::indexing_slicing)]

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use uuid::Uuid;

use crate::demo::data::{
    COMMITMENTS, COMMUNES, DOMAIN_WEIGHTS, OUTCOMES, REFUSAL_REASONS, ages, decision_labels,
};
use crate::demo::names;
use crate::domain::events::{self as event, EventData};
use crate::domain::nir::Nir;
use crate::domain::plan::latest_review;
use crate::domain::{
    ClosureReason, CommitmentRefusalReason, CommitmentStatus, ConsentBy, ContinuationReason,
    DecisionAuthority, DecisionKind, Domain, EscalationLevel, EventKind, PathwayStatus,
    PlanEndReason, PlanKind, PlanStatus, Qualification, Sex,
};
use crate::privacy::{PersonalDataKeys, SealedNir};

/// What the generator draws from: the calendar, and who can be referent.
pub struct World {
    pub today: NaiveDate,
    /// Opening date of each domain.
    pub opens_on: Vec<(Domain, NaiveDate)>,
    /// The ages (in months) the alert rules watch in each domain.
    pub age_thresholds: Vec<(Domain, u32)>,
    /// Territory code → (territory id, referents by domain, supervisor).
    pub territories: Vec<Territory>,
    pub organizations: Vec<Uuid>,
    /// The facilities orientations are addressed to: id, FINESS, domain.
    pub facilities: Vec<(Uuid, String, Domain)>,
}

pub struct Territory {
    pub code: &'static str,
    pub id: Uuid,
    pub referents: Vec<(Domain, Vec<Uuid>)>,
}

/// Rows for one batch, column by column, ready for `INSERT … SELECT unnest(…)`.
#[derive(Default)]
pub struct Batch {
    pub persons: Persons,
    pub pathways: Pathways,
    pub periods: Periods,
    pub events: Events,
    pub decisions: Decisions,
    pub plans: Plans,
    pub commitments: Commitments,
    pub meetings: Meetings,
    pub follow_ups: FollowUps,
    pub facility_statuses: FacilityStatuses,
}

/// Facilities an orientation is addressed to, with their current status.
#[derive(Default)]
pub struct FollowUps {
    pub id: Vec<Uuid>,
    pub decision: Vec<Uuid>,
    pub pathway: Vec<Uuid>,
    pub organization: Vec<Uuid>,
    pub finess: Vec<String>,
    pub status: Vec<Option<String>>,
    pub reason: Vec<Option<String>>,
    pub status_on: Vec<Option<NaiveDate>>,
    pub version: Vec<i32>,
    pub created_at: Vec<DateTime<Utc>>,
}

/// Every status each facility reported.
#[derive(Default)]
pub struct FacilityStatuses {
    pub id: Vec<Uuid>,
    pub follow_up: Vec<Uuid>,
    pub status: Vec<String>,
    pub reason: Vec<Option<String>>,
    pub status_on: Vec<NaiveDate>,
    pub recorded_by: Vec<Uuid>,
    pub recorded_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
pub struct Persons {
    pub id: Vec<Uuid>,
    pub family_name: Vec<String>,
    pub given_names: Vec<String>,
    pub birth_date: Vec<NaiveDate>,
    pub sex: Vec<Option<Sex>>,
    pub commune: Vec<String>,
    pub territory: Vec<Uuid>,
    pub caf: Vec<Option<String>>,
    pub msa: Vec<Option<String>>,
    pub representative: Vec<Option<String>>,
    pub objection: Vec<bool>,
    pub nir_ciphertext: Vec<Option<Vec<u8>>>,
    pub nir_index: Vec<Option<Vec<u8>>>,
    pub created_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
pub struct Pathways {
    pub id: Vec<Uuid>,
    pub person: Vec<Uuid>,
    pub domain: Vec<Domain>,
    pub territory: Vec<Uuid>,
    pub referent: Vec<Option<Uuid>>,
    pub status: Vec<PathwayStatus>,
    pub status_since: Vec<DateTime<Utc>>,
    pub opened_on: Vec<NaiveDate>,
    pub closed_on: Vec<Option<NaiveDate>>,
    pub closure_reason: Vec<Option<ClosureReason>>,
    pub critical_level: Vec<Option<EscalationLevel>>,
    pub critical_reason: Vec<Option<String>>,
    pub critical_since: Vec<Option<DateTime<Utc>>>,
    pub created_at: Vec<DateTime<Utc>>,
    pub continues_from: Vec<Option<Uuid>>,
    pub continuation_reason: Vec<Option<ContinuationReason>>,
}

#[derive(Default)]
pub struct Periods {
    pub pathway: Vec<Uuid>,
    pub status: Vec<PathwayStatus>,
    pub started_at: Vec<DateTime<Utc>>,
    pub ended_at: Vec<Option<DateTime<Utc>>>,
    pub reason: Vec<Option<String>>,
}

#[derive(Default)]
pub struct Events {
    pub pathway: Vec<Uuid>,
    pub kind: Vec<EventKind>,
    pub occurred_at: Vec<DateTime<Utc>>,
    pub actor: Vec<Option<Uuid>>,
    pub data: Vec<serde_json::Value>,
}

impl Events {
    /// An event of the timeline, its kind and data as the API records them.
    fn push(&mut self, pathway: Uuid, when: DateTime<Utc>, actor: Option<Uuid>, data: EventData) {
        self.pathway.push(pathway);
        self.kind.push(data.kind());
        self.occurred_at.push(when);
        self.actor.push(actor);
        self.data.push(data.to_json());
    }
}

#[derive(Default)]
pub struct Decisions {
    pub id: Vec<Uuid>,
    pub kind: Vec<DecisionKind>,
    pub pathway: Vec<Uuid>,
    pub authority: Vec<DecisionAuthority>,
    pub qualification: Vec<Qualification>,
    pub label: Vec<String>,
    pub decided_on: Vec<NaiveDate>,
    pub valid_until: Vec<Option<NaiveDate>>,
    pub implemented_on: Vec<Option<NaiveDate>>,
    pub recorded_by: Vec<Option<Uuid>>,
    pub created_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
pub struct Plans {
    pub id: Vec<Uuid>,
    pub pathway: Vec<Uuid>,
    pub kind: Vec<PlanKind>,
    pub status: Vec<PlanStatus>,
    pub coordinator: Vec<Uuid>,
    pub consent_by: Vec<Option<ConsentBy>>,
    pub consented_on: Vec<Option<NaiveDate>>,
    pub activated_on: Vec<Option<NaiveDate>>,
    pub review_due: Vec<Option<NaiveDate>>,
    pub ended_on: Vec<Option<NaiveDate>>,
    pub end_reason: Vec<Option<PlanEndReason>>,
    pub created_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
pub struct Commitments {
    pub id: Vec<Uuid>,
    pub plan: Vec<Uuid>,
    pub organization: Vec<Uuid>,
    pub description: Vec<String>,
    pub frequency: Vec<Option<String>>,
    pub due_on: Vec<Option<NaiveDate>>,
    pub status: Vec<CommitmentStatus>,
    pub refusal_reason: Vec<Option<CommitmentRefusalReason>>,
    pub answered_at: Vec<Option<DateTime<Utc>>>,
    pub answered_by: Vec<Option<Uuid>>,
    pub created_at: Vec<DateTime<Utc>>,
}

#[derive(Default)]
pub struct Meetings {
    pub id: Vec<Uuid>,
    pub pathway: Vec<Uuid>,
    pub held_on: Vec<NaiveDate>,
    pub person_agreed: Vec<bool>,
    pub outcome: Vec<String>,
    pub recorded_by: Vec<Option<Uuid>>,
    pub created_at: Vec<DateTime<Utc>>,
}

fn at(date: NaiveDate, rng: &mut StdRng) -> DateTime<Utc> {
    let seconds = rng.gen_range(8 * 3600..18 * 3600);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or_default();
    Utc.from_utc_datetime(&date.and_time(time))
}

/// How the facilities answered an orientation, from the pathway's course.
#[derive(Clone, Copy)]
enum Answer {
    /// One admitted the person on this date (the pathway became supported).
    Admitted(NaiveDate),
    /// None has admitted the person: waiting lists and refusals.
    Waiting,
    /// Just notified.
    Notified,
}

struct Orientation {
    decision: Uuid,
    pathway: Uuid,
    domain: Domain,
    decided_on: NaiveDate,
    answer: Answer,
    /// The last date the facilities report by (the pathway's last change).
    until: NaiveDate,
}

/// Addresses an orientation to one to three facilities of its domain, and
/// reports their statuses as ESMS do: notification, waiting list, then an
/// admission (one of them, when the pathway found its solution), refusals
/// with their national reason, or nothing yet.
fn address_facilities(
    batch: &mut Batch,
    world: &World,
    orientation: &Orientation,
    referent: Option<Uuid>,
    rng: &mut StdRng,
) {
    let mut candidates: Vec<&(Uuid, String, Domain)> = world
        .facilities
        .iter()
        .filter(|(_, _, domain)| *domain == orientation.domain)
        .collect();
    if candidates.is_empty() {
        return;
    }
    candidates.shuffle(rng);
    let count = rng.gen_range(1..=3).min(candidates.len());
    let notified_at = at(orientation.decided_on, rng);
    for (n, (organization, finess, _)) in candidates.into_iter().take(count).enumerate() {
        let follow_up = id_at(notified_at, rng);
        let mut statuses: Vec<(&'static str, Option<&'static str>, NaiveDate)> = Vec::new();
        let mut on = orientation.decided_on;
        let end = match orientation.answer {
            Answer::Admitted(date) => date.max(orientation.decided_on),
            _ => orientation.until,
        };
        statuses.push(("39", None, step(&mut on, end, rng)));
        match orientation.answer {
            Answer::Notified => {
                if rng.gen_bool(0.5) {
                    statuses.push(("40", None, step(&mut on, end, rng)));
                }
            }
            Answer::Admitted(date) if n == 0 => {
                statuses.push(("42", None, step(&mut on, end, rng)));
                statuses.push(("71", None, step(&mut on, end, rng)));
                statuses.push(("47", None, date.max(on)));
            }
            Answer::Admitted(_) => {
                // Admitted elsewhere: the others close their waiting list.
                statuses.push(("42", None, step(&mut on, end, rng)));
                if rng.gen_bool(0.6) {
                    statuses.push(("45", Some("119"), step(&mut on, end, rng)));
                }
            }
            Answer::Waiting => {
                statuses.push(("42", None, step(&mut on, end, rng)));
                if rng.gen_bool(0.35) {
                    let reason = weighted(REFUSAL_REASONS, rng);
                    statuses.push(("45", Some(reason), step(&mut on, end, rng)));
                }
            }
        }
        let f = &mut batch.follow_ups;
        let (last, reason, status_on) = statuses[statuses.len() - 1];
        f.id.push(follow_up);
        f.decision.push(orientation.decision);
        f.pathway.push(orientation.pathway);
        f.organization.push(*organization);
        f.finess.push(finess.clone());
        f.status.push(Some(last.to_owned()));
        f.reason.push(reason.map(str::to_owned));
        f.status_on.push(Some(status_on));
        f.version.push(1 + statuses.len() as i32);
        f.created_at.push(notified_at);
        let notified = event::FacilityNotified {
            follow_up_id: follow_up,
            decision_id: orientation.decision,
            organization_id: *organization,
            finess: finess.clone(),
        };
        let data = EventData::FacilityNotified(notified);
        batch
            .events
            .push(orientation.pathway, notified_at, referent, data);
        let mut from = None;
        let mut last_at = notified_at;
        for (status, reason, status_on) in statuses {
            // Reported in order, a minute apart at least on the same day.
            let recorded_at = at(status_on, rng).max(last_at + chrono::Duration::minutes(1));
            last_at = recorded_at;
            let s = &mut batch.facility_statuses;
            s.id.push(id_at(recorded_at, rng));
            s.follow_up.push(follow_up);
            s.status.push(status.to_owned());
            s.reason.push(reason.map(str::to_owned));
            s.status_on.push(status_on);
            // Reported by the facility's software: the demo has no client
            // for it, so the facility's own id stands for its reporter.
            s.recorded_by.push(*organization);
            s.recorded_at.push(recorded_at);
            let changed = event::FacilityStatusChanged {
                follow_up_id: follow_up,
                decision_id: orientation.decision,
                organization_id: *organization,
                from: from.replace(status.to_owned()),
                to: status.to_owned(),
                reason: reason.map(str::to_owned),
                status_on,
            };
            let data = EventData::FacilityStatusChanged(changed);
            batch
                .events
                .push(orientation.pathway, recorded_at, None, data);
        }
    }
}

/// The next date of a facility's statuses: on or after `on`, by `end`.
fn step(on: &mut NaiveDate, end: NaiveDate, rng: &mut StdRng) -> NaiveDate {
    *on = between(*on, end.max(*on), rng);
    *on
}

/// A UUIDv7 for `when`, its random part from the seeded RNG.
fn id_at(when: DateTime<Utc>, rng: &mut StdRng) -> Uuid {
    let millis = u64::try_from(when.timestamp_millis()).unwrap_or_default();
    let random: [u8; 10] = rng.r#gen();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

fn between(from: NaiveDate, to: NaiveDate, rng: &mut StdRng) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + Days::new(rng.gen_range(0..=span) as u64)
}

fn weighted<T: Copy>(items: &[(T, u32)], rng: &mut StdRng) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (item, weight) in items {
        if pick < *weight {
            return *item;
        }
        pick -= weight;
    }
    items[items.len() - 1].0
}

fn nir_for(sex: Sex, birth: NaiveDate, commune: &str, rng: &mut StdRng) -> Option<Nir> {
    let sex_digit = if sex == Sex::Female { 2 } else { 1 };
    let body = format!(
        "{sex_digit}{:02}{:02}{}{:03}",
        birth.year() % 100,
        birth.month(),
        commune,
        rng.gen_range(1..999)
    );
    let number: u64 = body.parse().ok()?;
    Nir::parse(&format!("{body}{:02}", 97 - number % 97)).ok()
}

impl World {
    fn opens_on(&self, domain: Domain) -> NaiveDate {
        self.opens_on
            .iter()
            .find(|(d, _)| *d == domain)
            .map(|(_, date)| *date)
            .unwrap_or(self.today)
    }
}

/// Adds one person, with one or two pathways, to `batch`. `nirs` holds the
/// NIRs given so far, so that none is given twice.
pub fn person(
    world: &World,
    keys: &PersonalDataKeys,
    nirs: &mut HashSet<String>,
    rng: &mut StdRng,
    batch: &mut Batch,
) {
    let territory = weighted(
        &COMMUNES
            .iter()
            .enumerate()
            .map(|(i, (_, _, weight))| (i, *weight))
            .collect::<Vec<_>>(),
        rng,
    );
    let (code, communes, _) = COMMUNES[territory];
    let Some(territory) = world.territories.iter().find(|t| t.code == code) else {
        return;
    };
    let (commune, _) = *communes.choose(rng).unwrap_or(&communes[0]);
    let first_domain = weighted(DOMAIN_WEIGHTS, rng);
    let mut domains = vec![first_domain];
    if rng.gen_bool(0.2) {
        let second = weighted(DOMAIN_WEIGHTS, rng);
        if second != first_domain && compatible_ages(first_domain, second) {
            domains.push(second);
        }
    }
    let (min_age, max_age) = domains
        .iter()
        .map(|d| ages(*d))
        .fold((0, 120), |(lo, hi), (a, b)| (lo.max(a), hi.min(b)));
    // Opened no earlier than the domains' opening dates.
    let earliest = domains
        .iter()
        .map(|d| world.opens_on(*d))
        .max()
        .unwrap_or(world.today);
    if earliest > world.today {
        return;
    }
    let first_opened = between(earliest, world.today, rng);
    let age = rng.gen_range(min_age..=max_age);
    let birth = first_opened
        .checked_sub_months(Months::new(age * 12 + rng.gen_range(0..12)))
        .unwrap_or(first_opened)
        - Days::new(rng.gen_range(0..28));
    // One person in twenty-five of a watched domain is near one of its age
    // thresholds: the birthday within 60 days of today, either side.
    let thresholds: Vec<u32> = world
        .age_thresholds
        .iter()
        .filter(|(domain, _)| *domain == first_domain)
        .map(|(_, months)| *months)
        .collect();
    let near = match thresholds.choose(rng) {
        Some(months) if rng.gen_bool(0.04) => (world.today + Days::new(rng.gen_range(0..=120)))
            .checked_sub_months(Months::new(*months))
            .map(|day| day - Days::new(60))
            .filter(|born| *born <= first_opened),
        _ => None,
    };
    let birth = near.unwrap_or(birth);
    let sex = if rng.gen_bool(0.5) {
        Sex::Female
    } else {
        Sex::Male
    };
    let given_names = names::given_names(sex == Sex::Female, rng);
    let created = at(first_opened, rng);
    let id = id_at(created, rng);
    let nir = rng
        .gen_bool(0.3)
        .then(|| nir_for(sex, birth, commune, rng))
        .flatten()
        .filter(|nir| nirs.insert(nir.expose().to_owned()));
    let minor_or_old = domains.contains(&Domain::Childhood) || age >= 80;
    let p = &mut batch.persons;
    p.id.push(id);
    p.family_name.push(names::family_name(rng));
    p.given_names.push(given_names);
    p.birth_date.push(birth);
    p.sex.push(rng.gen_bool(0.98).then_some(sex));
    p.commune.push(commune.to_owned());
    p.territory.push(territory.id);
    p.caf.push(
        rng.gen_bool(0.6)
            .then(|| format!("{:07}", rng.gen_range(0..10_000_000))),
    );
    p.msa.push(
        rng.gen_bool(0.08)
            .then(|| format!("{:08}", rng.gen_range(0..100_000_000))),
    );
    p.representative
        .push((minor_or_old && rng.gen_bool(0.5)).then(|| {
            if domains.contains(&Domain::Childhood) {
                "Titulaires de l'autorité parentale".to_owned()
            } else {
                "UDAF des Hautes-Alpes (tutelle)".to_owned()
            }
        }));
    p.objection.push(rng.gen_bool(0.03));
    let (ciphertext, index) = SealedNir::columns(nir.as_ref().map(|nir| keys.seal_nir(id, nir)));
    p.nir_ciphertext.push(ciphertext);
    p.nir_index.push(index);
    p.created_at.push(created);

    let mut first = None;
    for (n, domain) in domains.iter().enumerate() {
        let opened_on = if n == 0 {
            first_opened
        } else {
            between(world.opens_on(*domain).max(first_opened), world.today, rng)
        };
        // A quarter of second pathways continue the first: at an age
        // threshold between child protection and disability, or disability
        // and the elderly; after a change of situation otherwise.
        let continues = first.filter(|_| rng.gen_bool(0.25)).map(|previous| {
            let reason = match (first_domain, *domain) {
                (Domain::Childhood, Domain::Disability) | (Domain::Disability, Domain::Elderly) => {
                    ContinuationReason::Age
                }
                _ => ContinuationReason::ChangeOfSituation,
            };
            (previous, reason)
        });
        pathway(
            world, territory, id, *domain, opened_on, continues, rng, batch,
        );
        first = first.or(batch.pathways.id.last().copied());
    }
}

fn compatible_ages(a: Domain, b: Domain) -> bool {
    let (a_lo, a_hi) = ages(a);
    let (b_lo, b_hi) = ages(b);
    a_lo.max(b_lo) <= a_hi.min(b_hi)
}

/// The statuses a pathway went through, ending in its current one.
fn route(rng: &mut StdRng) -> Vec<PathwayStatus> {
    use PathwayStatus::*;
    let roll = rng.gen_range(0..100);
    let mut steps = vec![Referred];
    match roll {
        0..12 => {}
        12..20 => steps.push(Assessment),
        20..30 => steps.extend([Assessment, Orientation]),
        30..40 => steps.extend([Assessment, Orientation, WithoutSolution]),
        40..62 => {
            steps.extend([Assessment, Orientation]);
            if rng.gen_bool(0.3) {
                steps.push(WithoutSolution);
            }
            steps.push(Supported);
        }
        62..70 => {
            if rng.gen_bool(0.5) {
                steps.push(Assessment);
            }
            steps.push(Closed);
        }
        _ => {
            steps.extend([Assessment, Orientation]);
            if rng.gen_bool(0.3) {
                steps.push(WithoutSolution);
            }
            steps.extend([Supported, Closed]);
        }
    }
    steps
}

#[allow(clippy::too_many_arguments)]
fn pathway(
    world: &World,
    territory: &Territory,
    person: Uuid,
    domain: Domain,
    opened_on: NaiveDate,
    continues: Option<(Uuid, ContinuationReason)>,
    rng: &mut StdRng,
    batch: &mut Batch,
) {
    let referents = territory
        .referents
        .iter()
        .find(|(d, _)| *d == domain)
        .map(|(_, r)| r.as_slice())
        .unwrap_or(&[]);
    let referent = referents.choose(rng).copied();
    let steps = route(rng);
    // Each status starts on or after the previous one.
    let mut dates = vec![opened_on];
    for _ in 1..steps.len() {
        let previous = *dates.last().unwrap_or(&opened_on);
        let remaining = (world.today - previous).num_days().max(0);
        let step = rng.gen_range(0..=remaining.min(400));
        dates.push(previous + Days::new(step.unsigned_abs()));
    }
    let mut times: Vec<DateTime<Utc>> = dates.iter().map(|d| at(*d, rng)).collect();
    for i in 1..times.len() {
        if times[i] < times[i - 1] {
            times[i] = times[i - 1];
        }
    }
    let id = id_at(times[0], rng);
    let current = *steps.last().unwrap_or(&PathwayStatus::Referred);
    let closed = current == PathwayStatus::Closed;
    let closure_reason = closed.then(|| {
        // A named reason: every one but the last, `other`.
        let all = ClosureReason::VALUES;
        let named = all.strip_suffix(&[ClosureReason::Other]).unwrap_or(all);
        *named.choose(rng).unwrap_or(&ClosureReason::Other)
    });
    let critical_odds = if current == PathwayStatus::WithoutSolution {
        0.2
    } else {
        0.01
    };
    let critical = (!closed && rng.gen_bool(critical_odds)).then(|| {
        let level = weighted(
            &[
                (EscalationLevel::Department, 70),
                (EscalationLevel::Regional, 25),
                (EscalationLevel::National, 5),
            ],
            rng,
        );
        let since = between(*dates.last().unwrap_or(&opened_on), world.today, rng);
        (level, at(since, rng))
    });

    let pw = &mut batch.pathways;
    pw.id.push(id);
    pw.person.push(person);
    pw.domain.push(domain);
    pw.territory.push(territory.id);
    pw.referent.push(referent);
    pw.status.push(current);
    pw.status_since.push(*times.last().unwrap_or(&times[0]));
    pw.opened_on.push(opened_on);
    pw.closed_on
        .push(closed.then(|| *dates.last().unwrap_or(&opened_on)));
    pw.closure_reason.push(closure_reason);
    pw.critical_level.push(critical.map(|(level, _)| level));
    pw.critical_reason
        .push(critical.map(|_| "Risque de rupture de parcours".to_owned()));
    pw.critical_since.push(critical.map(|(_, since)| since));
    pw.created_at.push(times[0]);
    pw.continues_from
        .push(continues.map(|(previous, _)| previous));
    pw.continuation_reason.push(continues.map(|(_, why)| why));
    if let Some((previous, why)) = continues {
        let continued = event::PathwayContinued {
            pathway_id: id,
            domain,
            opened_on,
            reason: why,
        };
        let data = EventData::PathwayContinued(continued);
        batch.events.push(previous, times[0], referent, data);
    }

    let mut record = |when: DateTime<Utc>, data: EventData| {
        batch.events.push(id, when, referent, data);
    };
    record(
        times[0],
        EventData::PathwayOpened(event::PathwayOpened {
            domain,
            status: PathwayStatus::Referred,
            opened_on,
            referent_id: referent,
            reason: None,
            continues_from: continues.map(|(previous, _)| previous),
            continuation_reason: continues.map(|(_, why)| why),
        }),
    );
    for i in 1..steps.len() {
        let closed = steps[i] == PathwayStatus::Closed;
        record(
            times[i],
            EventData::StatusChanged(event::StatusChanged {
                from: steps[i - 1],
                to: steps[i],
                reason: "Donnée de démonstration".to_owned(),
                closure_reason: if closed { closure_reason } else { None },
            }),
        );
    }
    if let Some((level, since)) = critical {
        record(
            since,
            EventData::CriticalSet(event::CriticalSet {
                level,
                previous_level: None,
                reason: "Risque de rupture de parcours".to_owned(),
            }),
        );
    }
    for i in 0..steps.len() {
        let p = &mut batch.periods;
        p.pathway.push(id);
        p.status.push(steps[i]);
        p.started_at.push(times[i]);
        p.ended_at.push(times.get(i + 1).copied());
        p.reason
            .push((i > 0).then(|| "Donnée de démonstration".to_owned()));
    }

    let reached = |status: PathwayStatus| steps.iter().position(|s| *s == status);
    let Some(oriented) = reached(PathwayStatus::Orientation) else {
        return;
    };
    let decided_on = dates[oriented];
    let supported = reached(PathwayStatus::Supported).map(|i| dates[i]);
    let decision_id = id_at(times[oriented], rng);
    let qualification = if rng.gen_bool(0.75) {
        Qualification::Target
    } else {
        Qualification::Alternative
    };
    // Some requests were first rejected, then oriented on a new request.
    if rng.gen_bool(0.08) {
        let rejected_on = between(dates[0], decided_on, rng);
        let rejection_id = id_at(at(rejected_on, rng), rng);
        let d = &mut batch.decisions;
        d.id.push(rejection_id);
        d.kind.push(DecisionKind::Rejection);
        d.pathway.push(id);
        d.authority.push(DecisionAuthority::DepartmentPresident);
        d.qualification.push(Qualification::Target);
        d.label.push("Rejet de la demande".to_owned());
        d.decided_on.push(rejected_on);
        d.valid_until.push(None);
        d.implemented_on.push(None);
        d.recorded_by.push(referent);
        d.created_at.push(at(rejected_on, rng));
        let recorded = event::DecisionRecorded {
            decision_id: rejection_id,
            kind: DecisionKind::Rejection,
            authority: DecisionAuthority::DepartmentPresident,
            qualification: Qualification::Target,
            decided_on: rejected_on,
            valid_until: None,
        };
        let when = at(rejected_on, rng);
        batch
            .events
            .push(id, when, referent, EventData::DecisionRecorded(recorded));
    }
    let d = &mut batch.decisions;
    d.id.push(decision_id);
    d.kind.push(DecisionKind::Orientation);
    d.pathway.push(id);
    let authority = match domain {
        Domain::Disability => DecisionAuthority::Cdaph,
        Domain::Childhood if rng.gen_bool(0.5) => DecisionAuthority::Judge,
        _ => DecisionAuthority::DepartmentPresident,
    };
    d.authority.push(authority);
    d.qualification.push(qualification);
    d.label.push(
        decision_labels(domain)
            .choose(rng)
            .copied()
            .unwrap_or("Orientation")
            .to_owned(),
    );
    d.decided_on.push(decided_on);
    let valid_until = Some(decided_on + Days::new(rng.gen_range(365..5 * 365)));
    d.valid_until.push(valid_until);
    d.implemented_on.push(supported);
    d.recorded_by.push(referent);
    d.created_at.push(times[oriented]);
    let recorded = event::DecisionRecorded {
        decision_id,
        kind: DecisionKind::Orientation,
        authority,
        qualification,
        decided_on,
        valid_until,
    };
    let data = EventData::DecisionRecorded(recorded);
    batch.events.push(id, times[oriented], referent, data);
    let answer = match (supported, reached(PathwayStatus::WithoutSolution)) {
        (Some(on), _) => Answer::Admitted(on),
        (None, Some(_)) => Answer::Waiting,
        (None, None) => Answer::Notified,
    };
    let orientation = Orientation {
        decision: decision_id,
        pathway: id,
        domain,
        decided_on,
        answer,
        until: dates.last().copied().unwrap_or(world.today).max(decided_on),
    };
    address_facilities(batch, world, &orientation, referent, rng);

    let without_solution = reached(PathwayStatus::WithoutSolution);
    if let Some(ws) = without_solution
        && rng.gen_bool(0.6)
    {
        let end = dates.get(ws + 1).copied().unwrap_or(world.today);
        let held_on = between(dates[ws], end, rng);
        let when = at(held_on, rng).max(times[ws]);
        let m = &mut batch.meetings;
        let meeting_id = id_at(when, rng);
        m.id.push(meeting_id);
        m.pathway.push(id);
        m.held_on.push(held_on);
        let person_agreed = rng.gen_bool(0.9);
        m.person_agreed.push(person_agreed);
        m.outcome
            .push(OUTCOMES.choose(rng).copied().unwrap_or("GOS").to_owned());
        m.recorded_by.push(referent);
        m.created_at.push(when);
        let held = event::MeetingHeld {
            meeting_id,
            held_on,
            person_agreed,
            organization_ids: Vec::new(),
        };
        batch
            .events
            .push(id, when, referent, EventData::MeetingHeld(held));
    }

    // A plan for most oriented pathways, at the stage the pathway reached.
    let Some(coordinator) = referent else {
        return;
    };
    if !rng.gen_bool(0.7) {
        return;
    }
    let kind = match domain {
        Domain::Elderly if rng.gen_bool(0.5) => PlanKind::CarePlan,
        Domain::Childhood if rng.gen_bool(0.5) => PlanKind::Ppe,
        Domain::Insertion if rng.gen_bool(0.5) => PlanKind::EngagementContract,
        _ => PlanKind::Pag,
    };
    let started = without_solution.map(|i| dates[i]).or(supported);
    let plan_status = match (started, closed) {
        (None, _) => {
            if rng.gen_bool(0.5) {
                PlanStatus::Draft
            } else {
                PlanStatus::Proposed
            }
        }
        (Some(_), true) => PlanStatus::Ended,
        (Some(_), false) => {
            if rng.gen_bool(0.9) {
                PlanStatus::Active
            } else {
                PlanStatus::Consented
            }
        }
    };
    let consented_on = started.map(|s| between(decided_on, s.max(decided_on), rng));
    let activated_on = match plan_status {
        // Most plans older than a year were reviewed and renewed since;
        // the others are the overdue reviews.
        PlanStatus::Active => consented_on.map(|on| {
            let year_ago = world.today - Days::new(365);
            if on < year_ago && rng.gen_bool(0.9) {
                between(year_ago, world.today, rng)
            } else {
                on
            }
        }),
        PlanStatus::Ended => consented_on,
        _ => None,
    };
    // Some reviews are set early: a few fall due soon, older ones are overdue.
    let review_due = activated_on.map(|a| {
        let latest = latest_review(a);
        if rng.gen_bool(0.3) {
            between(a + Days::new(1), latest, rng)
        } else {
            latest
        }
    });
    let ended_on = (plan_status == PlanStatus::Ended).then(|| *dates.last().unwrap_or(&decided_on));
    let plan_id = id_at(times[oriented], rng);
    let pl = &mut batch.plans;
    pl.id.push(plan_id);
    pl.pathway.push(id);
    pl.kind.push(kind);
    pl.status.push(plan_status);
    pl.coordinator.push(coordinator);
    pl.consent_by.push(consented_on.map(|_| {
        if rng.gen_bool(0.8) {
            ConsentBy::Person
        } else {
            ConsentBy::LegalRepresentative
        }
    }));
    pl.consented_on.push(consented_on);
    pl.activated_on.push(activated_on);
    pl.review_due.push(review_due);
    pl.ended_on.push(ended_on);
    // A PAG ends for a national reason (TRE_R421); the other plans with
    // their pathway.
    let end_reason = ended_on.map(|_| match kind {
        PlanKind::Pag => weighted(
            &[
                (PlanEndReason::TargetReached, 35),
                (PlanEndReason::AlternativeSustained, 20),
                (PlanEndReason::CoordinationWithoutPag, 15),
                (PlanEndReason::PersonRequest, 10),
                (PlanEndReason::NewPag, 10),
                (PlanEndReason::MovedOutOfDepartment, 6),
                (PlanEndReason::Deceased, 4),
            ],
            rng,
        ),
        _ => PlanEndReason::PathwayClosed,
    });
    pl.end_reason.push(end_reason);
    pl.created_at.push(times[oriented]);
    let created = event::PlanCreated {
        plan_id,
        kind,
        coordinator_id: coordinator,
    };
    let data = EventData::PlanCreated(created);
    batch.events.push(id, times[oriented], referent, data);

    // A plan not yet in force has proposals its organizations have not all
    // accepted; one in force, only accepted commitments, under way or done.
    let proposing = matches!(plan_status, PlanStatus::Draft | PlanStatus::Proposed);
    let consented = plan_status == PlanStatus::Consented;
    if activated_on.is_none() && !proposing && !consented {
        return;
    }
    for _ in 0..rng.gen_range(1..=3) {
        let (description, frequency) = *COMMITMENTS.choose(rng).unwrap_or(&COMMITMENTS[0]);
        let organization = *world.organizations.choose(rng).unwrap_or(&Uuid::nil());
        let status = if proposing {
            weighted(
                &[
                    (CommitmentStatus::Proposed, 50),
                    (CommitmentStatus::Accepted, 35),
                    (CommitmentStatus::Refused, 15),
                ],
                rng,
            )
        } else if consented {
            CommitmentStatus::Accepted
        } else if closed {
            *[
                CommitmentStatus::Fulfilled,
                CommitmentStatus::Breached,
                CommitmentStatus::Cancelled,
            ]
            .choose(rng)
            .unwrap_or(&CommitmentStatus::Fulfilled)
        } else {
            *[
                CommitmentStatus::Accepted,
                CommitmentStatus::InProgress,
                CommitmentStatus::Fulfilled,
            ]
            .choose(rng)
            .unwrap_or(&CommitmentStatus::Accepted)
        };
        let answered = status != CommitmentStatus::Proposed;
        let answered_at =
            answered.then(|| times[oriented] + chrono::Duration::days(rng.gen_range(1..10)));
        let commitment_id = id_at(times[oriented], rng);
        let c = &mut batch.commitments;
        c.id.push(commitment_id);
        c.plan.push(plan_id);
        c.organization.push(organization);
        c.description.push(description.to_owned());
        c.frequency.push(Some(frequency.to_owned()));
        c.due_on.push(review_due);
        c.status.push(status);
        c.refusal_reason
            .push((status == CommitmentStatus::Refused).then(|| {
                weighted(
                    &[
                        (CommitmentRefusalReason::NoCapacity, 50),
                        (CommitmentRefusalReason::OutsideMission, 20),
                        (CommitmentRefusalReason::NotEligible, 15),
                        (CommitmentRefusalReason::AlreadySupported, 10),
                        (CommitmentRefusalReason::Other, 5),
                    ],
                    rng,
                )
            }));
        c.answered_at.push(answered_at);
        // The demo has no partner client: the organization stands for it.
        c.answered_by.push(answered.then_some(organization));
        c.created_at.push(times[oriented]);
        let refusal_reason = c.refusal_reason.last().copied().flatten();
        // Its timeline: proposed, answered, then carried out or broken.
        let added = event::CommitmentAdded {
            plan_id,
            commitment_id,
            organization_id: organization,
            due_on: review_due,
        };
        let data = EventData::CommitmentAdded(added);
        batch.events.push(id, times[oriented], referent, data);
        let mut moves = Vec::new();
        match status {
            CommitmentStatus::Proposed => {}
            CommitmentStatus::Accepted | CommitmentStatus::Refused => moves.push(status),
            CommitmentStatus::InProgress | CommitmentStatus::Cancelled => {
                moves.extend([CommitmentStatus::Accepted, status])
            }
            CommitmentStatus::Fulfilled | CommitmentStatus::Breached => moves.extend([
                CommitmentStatus::Accepted,
                CommitmentStatus::InProgress,
                status,
            ]),
        }
        let mut from = CommitmentStatus::Proposed;
        let mut when = answered_at.unwrap_or(times[oriented]);
        for to in moves {
            let updated = event::CommitmentUpdated {
                plan_id,
                commitment_id,
                organization_id: organization,
                from,
                to,
                refusal_reason: (to == CommitmentStatus::Refused)
                    .then_some(refusal_reason)
                    .flatten(),
                on_behalf_of: None,
            };
            let at_most_now = when.min(Utc::now());
            batch
                .events
                .push(id, at_most_now, None, EventData::CommitmentUpdated(updated));
            from = to;
            when += chrono::Duration::days(rng.gen_range(7..90));
        }
    }
}
