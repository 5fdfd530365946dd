//! Deferred work on the object's one alarm. Each job has a row with its due time; the alarm
//! is always set for the earliest row, and runs every job that is due. Jobs survive the object
//! being evicted or the process restarting, because the rows and the alarm are stored.

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
}

impl Job {
    const ALL: [Job; 3] = [Job::Index, Job::Notify(Role::Merchant), Job::Notify(Role::Shopper)];

    fn name(self) -> &'static str {
        match self {
            Job::Index => "index",
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
    due_ms: f64,
    pub attempts: u32,
}

impl Due {
    pub fn job(&self) -> Option<Job> {
        Job::from_name(&self.name)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Store {
    /// Records when `job` should run; returns the earliest due time of all jobs.
    pub fn schedule(&self, job: Job, when: When, now_ms: f64) -> Result<f64> {
        match when {
            When::Within(delay) => self.sql.exec(
                "INSERT INTO jobs (name, due_ms, first_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET due_ms = MIN(due_ms, excluded.due_ms)",
                vec![job.name().into(), V::Float(now_ms + ms(delay)), V::Float(now_ms)],
            )?,
            When::Quiet { delay, max } => self.sql.exec(
                "INSERT INTO jobs (name, due_ms, first_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET due_ms = MIN(excluded.due_ms, first_ms + ?4)",
                vec![job.name().into(), V::Float(now_ms + ms(delay)), V::Float(now_ms), V::Float(ms(max))],
            )?,
        };
        Ok(self.next_due()?.unwrap_or(now_ms))
    }

    pub fn next_due(&self) -> Result<Option<f64>> {
        #[derive(Deserialize)]
        struct Next {
            next: Option<f64>,
        }
        let rows: Vec<Next> = self.sql.exec("SELECT MIN(due_ms) AS next FROM jobs", None)?.to_array()?;
        Ok(rows.first().and_then(|r| r.next))
    }

    pub fn due_jobs(&self, now_ms: f64) -> Result<Vec<Due>> {
        Ok(self.sql.exec("SELECT name, due_ms, attempts FROM jobs WHERE due_ms <= ? ORDER BY due_ms", vec![V::Float(now_ms)])?.to_array()?)
    }

    /// Records how a run ended. A job scheduled again while it ran keeps its new time.
    pub fn finish(&self, due: &Due, outcome: Outcome, now_ms: f64) -> Result<()> {
        match outcome {
            Outcome::Done => {
                self.sql.exec("DELETE FROM jobs WHERE name = ? AND due_ms = ?", vec![due.name.clone().into(), V::Float(due.due_ms)])?
            }
            Outcome::RetryIn(delay) => self.sql.exec(
                "UPDATE jobs SET due_ms = ?, attempts = attempts + 1 WHERE name = ? AND due_ms = ?",
                vec![V::Float(now_ms + ms(delay)), due.name.clone().into(), V::Float(due.due_ms)],
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
