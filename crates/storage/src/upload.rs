//! Large uploads to S3: a file sent in parts, each read from disk as it is sent, so an
//! upload of any size holds one part's worth of memory at most.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;

use crate::StorageError;
use crate::error::s3_error;

/// The size of each part of a multipart upload, and the most sent in one request.
pub const PART_BYTES: u64 = 8 * 1024 * 1024;

/// The most parts S3 takes in one upload: a larger file has larger parts.
const MOST_PARTS: u64 = 10_000;

/// Uploads the file at `path` (`size` bytes) to `key` in parts of [`PART_BYTES`] (larger
/// when the file would need more than S3's 10,000 parts), each
/// read from disk as it is sent; aborts the upload if a part fails.
pub(crate) async fn in_parts(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    size: u64,
    content_type: &str,
) -> Result<(), StorageError> {
    use aws_sdk_s3::primitives::Length;
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let started = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .send()
        .await
        .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
    let upload = started
        .upload_id()
        .ok_or_else(|| s3_error("the store gave no upload id"))?
        .to_owned();
    let sent = async {
        let mut parts = Vec::new();
        let part_bytes = PART_BYTES.max(size.div_ceil(MOST_PARTS));
        let mut offset = 0;
        let mut number = 1;
        while offset < size {
            let length = part_bytes.min(size - offset);
            let body = ByteStream::read_from()
                .path(path)
                .offset(offset)
                .length(Length::Exact(length))
                .build()
                .await
                .map_err(s3_error)?;
            let part = client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload)
                .part_number(number)
                .body(body)
                .send()
                .await
                .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .build(),
            );
            offset += length;
            number += 1;
        }
        client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok::<_, StorageError>(())
    }
    .await;
    if sent.is_err() {
        // Best effort: the store would otherwise keep the parts sent.
        let _ = client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload)
            .send()
            .await;
    }
    sent
}
