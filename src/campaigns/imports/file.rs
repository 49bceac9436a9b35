//! The uploaded file kept in PostgreSQL until its import ends: written in parts inside the
//! request's transaction, read back as a stream by the job.

use std::io::Read;

use diesel_async::AsyncPgConnection;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::model;
use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Bytes per stored part: big enough for few statements, small enough to hold a few.
const PART_BYTES: usize = 1 << 20;

/// Stores `file` as the import's parts.
pub async fn store(
    conn: &mut AsyncPgConnection,
    import_id: Uuid,
    file: std::fs::File,
) -> AppResult<()> {
    let mut file = tokio::fs::File::from_std(file);
    let mut part_no = 0;
    loop {
        let mut part = Vec::with_capacity(PART_BYTES);
        while part.len() < PART_BYTES {
            let read = (&mut file)
                .take((PART_BYTES - part.len()) as u64)
                .read_to_end(&mut part)
                .await
                .map_err(AppError::internal)?;
            if read == 0 {
                break;
            }
        }
        if part.is_empty() {
            return Ok(());
        }
        model::insert_part(conn, import_id, part_no, &part).await?;
        part_no += 1;
        if part.len() < PART_BYTES {
            return Ok(());
        }
    }
}

/// The stored file as a blocking reader (for the CSV reader on the blocking pool), fed part
/// by part by a task that ends with the file. A part that cannot be read is an I/O error,
/// never an early end, so a half-read file is not taken for a short one.
pub fn reader(state: &AppState, import_id: Uuid) -> PartsReader {
    let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(2);
    let state = state.clone();
    tokio::spawn(async move {
        for part_no in 0.. {
            let part = match state.conn().await {
                Ok(mut conn) => model::part(&mut conn, import_id, part_no)
                    .await
                    .map_err(std::io::Error::other),
                Err(e) => Err(std::io::Error::other(format!("{e:?}"))),
            };
            let part = match part {
                Ok(Some(data)) => Ok(data),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let failed = part.is_err();
            // A reader that stopped (a cancelled import) needs no more parts.
            if tx.send(part).await.is_err() || failed {
                return;
            }
        }
    });
    PartsReader {
        rx,
        part: Vec::new(),
        at: 0,
    }
}

pub struct PartsReader {
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    part: Vec<u8>,
    at: usize,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.part.len() {
            match self.rx.blocking_recv() {
                Some(part) => {
                    self.part = part?;
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.part.len() - self.at);
        buf[..n].copy_from_slice(&self.part[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
