//! Photo: PNG, JPEG or WebP up to 5 MB, decoded, resized to at most 256 px,
//! re-encoded as WebP (which drops every piece of metadata), stored with the user.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use serde_json::json;

use super::user_in_scope;
use crate::context::Ctx;
use crate::domain::rank::{Need, user_to_change};
use crate::domain::{Actor, audit};
use crate::error::{Error, Result};
use crate::model::UserId;
use crate::store;

pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
const MAX_SIDE: u32 = 256;
/// A picture larger than this is refused before it is decoded (a pixel flood): 24 megapixels
/// (6000 × 4000, more than a phone's photo) take at most 96 MB as RGBA.
const MAX_PIXELS: u64 = 24_000_000;
/// The most a decode may allocate; one decode runs at a time (`Ctx::decoding`).
pub(crate) const MAX_ALLOC: u64 = 128 * 1024 * 1024;
/// How long an upload waits for its turn to be decoded before the node answers busy.
const DECODE_QUEUE: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Photo {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: crate::model::Timestamp,
}

/// Checks, decodes and re-encodes an uploaded picture; pure, runs on the blocking pool.
fn process(upload: &[u8]) -> Result<Vec<u8>> {
    let not_image = || Error::field("photo", "photo-not-image");
    if upload.len() > MAX_PHOTO_BYTES {
        return Err(Error::field("photo", "photo-too-large"));
    }
    let format = image::guess_format(upload).map_err(|_| not_image())?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(not_image());
    }
    let reader = ImageReader::with_format(Cursor::new(upload), format);
    let (w, h) = reader.into_dimensions().map_err(|_| not_image())?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::field("photo", "photo-too-many-pixels"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| not_image())?;
    let img = if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Lanczos3)
    } else {
        img
    };
    let rgba = img.to_rgba8();
    let mut out = Cursor::new(Vec::new());
    rgba.write_to(&mut out, ImageFormat::WebP)
        .map_err(Error::internal)?;
    Ok(out.into_inner())
}

pub async fn set_photo(ctx: &Ctx, actor: &Actor, id: UserId, upload: Vec<u8>) -> Result<()> {
    let now = ctx.clock.now();
    {
        let mut conn = ctx.db.conn().await?;
        user_to_change(&mut conn, actor, id.0, Need::Any, now.millis()).await?;
    }
    let permit = tokio::time::timeout(DECODE_QUEUE, ctx.decoding.clone().acquire_owned())
        .await
        .map_err(|_| Error::RateLimited {
            retry_after_secs: 5,
        })?
        .map_err(Error::internal)?;
    let bytes = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        process(&upload)
    })
    .await
    .map_err(Error::internal)??;
    let mut tx = ctx.db.begin().await?;
    let (user, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    store::user::upsert_photo(tx.ex(), user.id, "image/webp", &bytes, now.millis()).await?;
    audit::Event::new(actor, "user.photo")
        .target("user", user.id, Some(user.node_id))
        .after(json!({"photo_bytes": bytes.len()}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

pub async fn remove_photo(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (user, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    store::user::delete_photo(tx.ex(), user.id).await?;
    audit::Event::new(actor, "user.photo.remove")
        .target("user", user.id, Some(user.node_id))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// The stored photo of a user the actor administers, or of the actor themself.
pub async fn get_photo(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<Photo> {
    let mut conn = ctx.db.conn().await?;
    if id != actor.user_id {
        user_in_scope(&mut conn, actor, id.0).await?;
    }
    let photo = store::user::find_photo(conn.ex(), id.0)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Photo {
        content_type: photo.content_type,
        bytes: photo.bytes,
        updated_at: crate::model::Timestamp::from_millis(photo.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn large_pictures_are_resized_and_reencoded_as_webp() {
        let out = process(&png(1000, 500)).unwrap();
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::WebP);
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (256, 128));
    }

    #[test]
    fn what_is_not_a_picture_is_refused() {
        for bad in [
            b"<svg onload=alert(1)>".to_vec(),
            b"<html>".to_vec(),
            vec![0u8; 100],
        ] {
            assert!(matches!(process(&bad), Err(Error::Invalid(_))));
        }
        let mut truncated = png(100, 100);
        truncated.truncate(60);
        assert!(matches!(process(&truncated), Err(Error::Invalid(_))));
        assert!(matches!(
            process(&vec![0u8; MAX_PHOTO_BYTES + 1]),
            Err(Error::Invalid(_))
        ));
    }
}
