//! Reading tables back: a stream of batches, and an order-independent content hash.

use arrow::array::RecordBatch;
use arrow::row::{RowConverter, SortField};
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::prelude::SessionContext;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::{Lake, LakeError, Layer, Result};

impl Lake {
    /// Streams every row of `layer.name` at `version` (latest when `None`), in no particular
    /// order.
    pub async fn scan(
        &self,
        layer: Layer,
        name: &str,
        version: Option<u64>,
    ) -> Result<SendableRecordBatchStream> {
        let mut table = self.open_existing(layer, name).await?;
        if let Some(v) = version {
            table
                .load_version(v)
                .await
                .map_err(|e| LakeError::delta(layer, name, e))?;
        }
        let read_err = |e: deltalake::datafusion::error::DataFusionError| LakeError::Read {
            table: format!("{layer}.{name}"),
            message: e.to_string(),
        };
        let ctx = SessionContext::new();
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| LakeError::delta(layer, name, e))?;
        let provider = table.table_provider().await.map_err(read_err)?;
        let frame = ctx.read_table(provider).map_err(read_err)?;
        frame.execute_stream().await.map_err(read_err)
    }

    /// Collects a whole table into memory. Only for small tables and tests.
    pub async fn read_all(&self, layer: Layer, name: &str) -> Result<Vec<RecordBatch>> {
        let mut stream = self.scan(layer, name, None).await?;
        let mut out = Vec::new();
        while let Some(batch) = stream.next().await {
            out.push(batch.map_err(|e| LakeError::Read {
                table: format!("{layer}.{name}"),
                message: e.to_string(),
            })?);
        }
        Ok(out)
    }

    /// A hash of the table's rows as a multiset: equal for equal rows whatever the file layout
    /// or row order, different (with overwhelming probability) for any other content. Returns
    /// `(rows, hex digest)`.
    pub async fn content_hash(&self, layer: Layer, name: &str) -> Result<(u64, String)> {
        let mut stream = self.scan(layer, name, None).await?;
        let mut converter: Option<RowConverter> = None;
        let (mut rows, mut sum_lo, mut sum_hi) = (0u64, 0u128, 0u128);
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| LakeError::Read {
                table: format!("{layer}.{name}"),
                message: e.to_string(),
            })?;
            let converter = match &mut converter {
                Some(c) => c,
                None => {
                    let fields = batch
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| SortField::new(f.data_type().clone()))
                        .collect();
                    converter.insert(
                        RowConverter::new(fields)
                            .map_err(|e| LakeError::Internal(e.to_string()))?,
                    )
                }
            };
            let encoded = converter
                .convert_columns(batch.columns())
                .map_err(|e| LakeError::Internal(e.to_string()))?;
            for row in encoded.iter() {
                let digest = Sha256::digest(row.as_ref());
                let lo = u128::from_le_bytes(digest[..16].try_into().expect("16 bytes"));
                let hi = u128::from_le_bytes(digest[16..].try_into().expect("16 bytes"));
                sum_lo = sum_lo.wrapping_add(lo);
                sum_hi = sum_hi.wrapping_add(hi);
                rows += 1;
            }
        }
        Ok((rows, format!("{sum_hi:032x}{sum_lo:032x}")))
    }
}
