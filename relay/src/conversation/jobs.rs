//! Deferred work on the object's one alarm. Each job has a row with its due time; the alarm
//! is always set for the earliest row, and runs every job that is due. Jobs survive the object
//! being evicted or the process restarting, because the rows and the alarm are stored.
//!
//! A job's work awaits (D1, `send_email`), and the object takes requests meanwhile, so a job
//! can be scheduled again while it runs. Each row has a generation: scheduling bumps it, and
//! a run marks the generation it started as running. A schedule that finds its row running
//! starts a fresh schedule (its own due time and burst start), and the run's end removes the
//! row only if no schedule came in meanwhile; otherwise the row stays, due when that schedule
//! asked, and the alarm is set for it.
//!
//! A quiet job (an email after a burst) moves later with every message of the burst. The
//! stored row moves only when the new time is more than [`QUIET_SLACK_MS`] (or a tenth of the
//! delay) past it; the later due times in between are kept in memory ([`QuietRow`]), and when
//! the stored time comes the row is moved to the latest one instead of running. Should the
//! object lose its memory meanwhile (eviction, or hibernation while a widget's socket is
//! open), the job runs at the stored time: at most that slack early.

use std::time::Duration;

use serde::Deserialize;
use worker::{SqlStorageValue as V, State};

use super::store::Store;
use crate::Result;
use crate::mail::sign::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Write the conversation's row in the D1 index.
    Index,
    /// Email the merchant the shopper's new messages, or the shopper the agent's unread
    /// replies.
    Notify(Role),
    /// Push the shopper's unseen messages to the teammates' devices.
    Push,
    /// Close the live sockets that did not say `hello` in time.
    Sockets,
    /// Hand new events to the webhooks queue.
    Hooks,
}

impl Job {
    const ALL: [Job; 6] = [Job::Index, Job::Notify(Role::Merchant), Job::Notify(Role::Shopper), Job::Push, Job::Sockets, Job::Hooks];

    fn name(self) -> &'static str {
        match self {
            Job::Index => "index",
            Job::Push => "push",
            Job::Sockets => "sockets",
            Job::Hooks => "hooks",
            Job::Notify(Role::Merchant) => "notify_merchant",
            Job::Notify(Role::Shopper) => "notify_shopper",
        }
    }

    fn from_name(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name)
    }
}

/// When a job should run.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// In `delay`, unless it is already due sooner.
    Within(Duration),
    /// `delay` after the latest call (a burst postpones it), but no later than `max` after
    /// the first.
    Quiet { delay: Duration, max: Duration },
}

/// What a job asks for after running.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Done,
    RetryIn(Duration),
}

/// A job that is due, as read before running it.
#[derive(Debug, Clone, Deserialize)]
pub struct Due {
    name: String,
    /// The generation this run covers: every schedule up to it.
    generation: i64,
    pub attempts: u32,
}

impl Due {
    /// `None` for a job this version does not know.
    pub fn job(&self) -> Option<Job> {
        Job::from_name(&self.name)
    }
}

/// How far past its stored due time a quiet job may move in memory only (a tenth of its delay
/// when that is less).
const QUIET_SLACK_MS: f64 = 5_000.0;

/// A quiet job's row as this object wrote it (its due time, its burst's start and cap), and
/// the due time asked for since.
#[derive(Debug, Clone, Copy)]
pub struct QuietRow {
    job: Job,
    stored_due: f64,
    first_ms: f64,
    max_ms: f64,
    wanted_due: f64,
}

impl QuietRow {
    /// The due time a schedule at `now_ms` with `delay` asks for: `delay` from now, but no
    /// later than the burst's cap.
    fn postponed(&self, now_ms: f64, delay: f64) -> f64 {
        (now_ms + delay).min(self.first_ms + self.max_ms).max(self.wanted_due)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Store {
    /// Adds the generation columns to a `jobs` table created before they existed.
    pub(super) fn migrate_jobs(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Column {
            name: String,
        }
        let columns: Vec<Column> = self.sql.exec("PRAGMA table_info(jobs)", None)?.to_array()?;
        if !columns.iter().any(|c| c.name == "generation") {
            self.sql.exec(
                "ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0; \
                 ALTER TABLE jobs ADD COLUMN running INTEGER NOT NULL DEFAULT 0;",
                None,
            )?;
        }
        Ok(())
    }

    /// Records when `job` should run; returns the earliest due time of all jobs, or `None`
    /// when nothing changed: a `Within` schedule of a job this object knows is due by then and
    /// not running (the next message of a burst) writes nothing. A job that is running keeps
    /// running; this schedule is its next run.
    pub fn schedule(&self, job: Job, when: When, now_ms: f64) -> Result<Option<f64>> {
        let due = match when {
            When::Within(delay) => Some(now_ms + ms(delay)),
            When::Quiet { delay, max } => {
                // The next message of a burst: the new due time is remembered; the row moves
                // only once it is more than the slack behind.
                let mut memo = self.memo.borrow_mut();
                if let Some(row) = memo.quiet.iter_mut().find(|r| r.job == job && r.max_ms == ms(max)) {
                    row.wanted_due = row.postponed(now_ms, ms(delay));
                    if row.wanted_due - row.stored_due <= QUIET_SLACK_MS.min(ms(delay) / 10.0) {
                        return Ok(None);
                    }
                }
                None
            }
        };
        if let Some(due) = due
            && self.memo.borrow().pending.iter().any(|(j, by)| *j == job && *by <= due)
        {
            return Ok(None);
        }
        let (next, row) = self.write_schedule(job, when, now_ms)?;
        self.unpend(job);
        // Due by then at the latest (sooner if it already was).
        if let Some(due) = due {
            self.memo.borrow_mut().pending.push((job, due));
        }
        if let When::Quiet { max, .. } = when {
            let mut memo = self.memo.borrow_mut();
            memo.quiet.retain(|r| r.job != job);
            if let Some((stored_due, first_ms)) = row {
                memo.quiet.push(QuietRow { job, stored_due, first_ms, max_ms: ms(max), wanted_due: stored_due });
            }
        }
        Ok(Some(next))
    }

    /// `job` is not known to be pending (its alarm could not be set: the next schedule writes
    /// and arms again).
    pub fn unpend(&self, job: Job) {
        let mut memo = self.memo.borrow_mut();
        memo.pending.retain(|(j, _)| *j != job);
        memo.quiet.retain(|r| r.job != job);
    }

    /// The job is running or ran: not known to be pending any more.
    fn forget_pending(&self, name: &str) {
        let mut memo = self.memo.borrow_mut();
        memo.pending.retain(|(j, _)| j.name() != name);
        memo.quiet.retain(|r| r.job.name() != name);
    }

    /// Writes the schedule; returns the earliest due time of all jobs, and the row's due time
    /// and burst start as stored (a running row is replaced by this schedule).
    fn write_schedule(&self, job: Job, when: When, now_ms: f64) -> Result<(f64, Option<(f64, f64)>)> {
        #[derive(Deserialize)]
        struct Row {
            due_ms: f64,
            first_ms: f64,
        }
        // `excluded` is this schedule as if the row were new; a row that is running is
        // replaced by it (its run covers only what came before).
        let (due, cap) = match when {
            When::Within(delay) => (now_ms + ms(delay), None),
            When::Quiet { delay, max } => (now_ms + ms(delay), Some(ms(max))),
        };
        let merged = match cap {
            // In `delay`, unless it is already due sooner.
            None => "MIN(due_ms, excluded.due_ms)",
            // `delay` after this call, but no later than `max` after the first.
            Some(_) => "MIN(excluded.due_ms, first_ms + ?4)",
        };
        let rows: Vec<Row> = self
            .sql
            .exec(
                &format!(
                    "INSERT INTO jobs (name, due_ms, first_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (name) DO UPDATE SET \
                       due_ms = CASE WHEN running THEN excluded.due_ms ELSE {merged} END, \
                       first_ms = CASE WHEN running THEN excluded.first_ms ELSE first_ms END, \
                       generation = generation + 1, running = 0 \
                     RETURNING due_ms, first_ms"
                ),
                match cap {
                    None => vec![job.name().into(), V::Float(due), V::Float(now_ms)],
                    Some(cap) => vec![job.name().into(), V::Float(due), V::Float(now_ms), V::Float(cap)],
                },
            )?
            .to_array()?;
        let row = rows.first().map(|r| (r.due_ms, r.first_ms));
        Ok((self.next_due()?.unwrap_or(now_ms), row))
    }

    pub fn next_due(&self) -> Result<Option<f64>> {
        #[derive(Deserialize)]
        struct Next {
            next: Option<f64>,
        }
        let rows: Vec<Next> = self.sql.exec("SELECT MIN(due_ms) AS next FROM jobs", None)?.to_array()?;
        Ok(rows.first().and_then(|r| r.next))
    }

    /// The names of the jobs due at `now_ms`, earliest first; each is run after
    /// [`Store::start`]. Only one alarm runs at a time, so a job still marked running is left
    /// from a run that died: it is not running any more.
    pub fn due_jobs(&self, now_ms: f64) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Name {
            name: String,
        }
        self.sql.exec("UPDATE jobs SET running = 0 WHERE running", None)?;
        let rows: Vec<Name> = self.sql.exec("SELECT name FROM jobs WHERE due_ms <= ? ORDER BY due_ms", vec![V::Float(now_ms)])?.to_array()?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// Marks the job `name` as running, if it is still due (it may have been postponed
    /// while an earlier job of the same alarm ran). Returns what the run covers.
    pub fn start(&self, name: &str, now_ms: f64) -> Result<Option<Due>> {
        // A quiet job asked for later since its row was written: moved there, not run.
        let later = self.memo.borrow().quiet.iter().find(|r| r.job.name() == name && r.wanted_due > now_ms).copied();
        if let Some(row) = later {
            self.sql.exec(
                "UPDATE jobs SET due_ms = ?, generation = generation + 1 WHERE name = ? AND NOT running",
                vec![V::Float(row.wanted_due), name.into()],
            )?;
            if let Some(r) = self.memo.borrow_mut().quiet.iter_mut().find(|r| r.job.name() == name) {
                r.stored_due = r.wanted_due;
            }
            return Ok(None);
        }
        self.forget_pending(name);
        self.sql.exec("UPDATE jobs SET running = 1 WHERE name = ? AND due_ms <= ?", vec![name.into(), V::Float(now_ms)])?;
        let rows: Vec<Due> = self.sql.exec("SELECT name, generation, attempts FROM jobs WHERE name = ? AND running", vec![name.into()])?.to_array()?;
        Ok(rows.into_iter().next())
    }

    /// Records how a run ended. A job scheduled again while it ran keeps that schedule: the
    /// row goes only if its generation is still the one the run started with.
    pub fn finish(&self, due: &Due, outcome: Outcome, now_ms: f64) -> Result<()> {
        self.forget_pending(&due.name);
        let (name, generation) = (due.name.clone(), V::Integer(due.generation));
        match outcome {
            Outcome::Done => {
                self.sql.exec("DELETE FROM jobs WHERE name = ? AND generation = ?", vec![name.clone().into(), generation])?;
                // Rescheduled meanwhile: a new job, not a retry.
                self.sql.exec("UPDATE jobs SET attempts = 0, running = 0 WHERE name = ?", vec![name.into()])?
            }
            // A retry of what the run covered; if rescheduled meanwhile, whichever is sooner.
            Outcome::RetryIn(delay) => self.sql.exec(
                "UPDATE jobs SET due_ms = CASE WHEN generation = ?3 THEN ?1 ELSE MIN(due_ms, ?1) END, \
                 attempts = attempts + 1, running = 0 WHERE name = ?2",
                vec![V::Float(now_ms + ms(delay)), name.into(), generation],
            )?,
        };
        Ok(())
    }
}

/// Sets the storage alarm for `due_ms` unless `armed` already holds that time. Returns what
/// is armed now.
pub async fn arm(state: &State, due_ms: f64, armed: Option<f64>, now_ms: f64) -> Result<f64> {
    if armed == Some(due_ms) {
        return Ok(due_ms);
    }
    // A Duration is an offset from now (worker 0.8's `set_alarm` reads integers that way too).
    state.storage().set_alarm(Duration::from_secs_f64(((due_ms - now_ms) / 1000.0).max(0.0))).await?;
    Ok(due_ms)
}
