//! Photos: only pictures, resized, bounded in pixels, and served safely.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines, input_value};

/// The start of a PNG file that says it is `w` × `h` pixels: signature, header chunk, end.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
        out
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

both_engines!(
    photos_are_pictures_resized_and_served_safely,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get(&format!("/users/{}", org.target)).await;
        let csrf = input_value(&page.body, "csrf").unwrap();
        let upload = |bytes: Vec<u8>, name: &'static str| {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .part("photo", part)
        };
        let url = format!("{}/users/{}/photo", server.url, org.target);
        let mut png = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(800, 600, |x, _| image::Rgb([(x % 255) as u8, 10, 200]))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let res = acct
            .http
            .post(&url)
            .multipart(upload(png.into_inner(), "../../x.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 303);
        let photo = acct.http.get(&url).send().await.unwrap();
        assert_eq!(photo.headers()["content-type"], "image/webp");
        assert_eq!(photo.headers()["x-content-type-options"], "nosniff");
        assert!(
            photo.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        let img = image::load_from_memory(&photo.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (256, 192));
        let not_image = acct
            .http
            .post(&url)
            .multipart(upload(b"<svg onload=alert(1)>".to_vec(), "x.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(not_image.status().as_u16(), 422);
        assert!(
            not_image
                .text()
                .await
                .unwrap()
                .contains("This file is not a PNG, JPEG or WebP picture.")
        );
        // A pixel flood: a few bytes that claim 20,000 × 20,000 (and 6,000 × 4,500, just over
        // 24 megapixels) are refused before anything is decoded.
        for (w, h) in [(20_000, 20_000), (6_000, 4_500)] {
            let before = server.fingerprint().await;
            let flood = acct
                .http
                .post(&url)
                .multipart(upload(png_header(w, h), "flood.png"))
                .send()
                .await
                .unwrap();
            assert_eq!(flood.status().as_u16(), 422, "{w} × {h}");
            assert!(
                flood
                    .text()
                    .await
                    .unwrap()
                    .contains("The picture has more than 24 megapixels.")
            );
            assert_eq!(server.fingerprint().await, before);
        }
        // Just over the limit: refused before decoding, the page names the photo field.
        let over = acct
            .http
            .post(&url)
            .multipart(upload(vec![0u8; 5 * 1024 * 1024 + 100 * 1024], "big.png"))
            .send()
            .await
            .unwrap();
        assert_eq!(over.status().as_u16(), 413);
        if let Ok(body) = over.text().await {
            assert!(body.contains("The picture is larger than 5 MB."), "{body}");
        }
        // 50 MB: refused while still arriving. The server answers 413 and closes; the client may
        // see the answer or only the closed connection. Either way nothing is stored and the
        // server carries on.
        let before = server.fingerprint().await;
        match acct
            .http
            .post(&url)
            .multipart(upload(vec![0u8; 50 * 1024 * 1024], "huge.png"))
            .send()
            .await
        {
            Ok(res) => assert_eq!(res.status().as_u16(), 413),
            Err(e) => assert!(e.is_request() || e.is_body() || e.is_decode(), "{e}"),
        }
        assert_eq!(server.fingerprint().await, before);
        assert_eq!(acct.get("/healthz").await.status, 200);
        let other = signed_in(&server, "badmin@b.test").await;
        assert_eq!(
            other.http.get(&url).send().await.unwrap().status().as_u16(),
            404
        );
    }
);
