//! The streaming loose-object reader (`src/git/loose.rs`), which reads pushed blobs from the
//! quarantine directory: a header and body built by the fuzzer (any kind, any declared size,
//! raw header bytes), zlib-compressed or not, cut short or followed by garbage. It must never
//! panic, and must return exactly the body when the object is a well-formed blob whose header
//! states its size — and an error whenever the header's size is not the body's.
#![no_main]

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Header {
    Blob,
    Kind(u8),
    Size(u64),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Object {
    header: Header,
    body: Vec<u8>,
    /// Bytes kept of the compressed stream (`None`: all).
    truncate: Option<u16>,
    /// Bytes after the zlib stream.
    trailing: Vec<u8>,
    /// Write the bytes as they are, without zlib.
    raw: bool,
    max_size: u16,
}

fn objects_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("leakgate-fuzz-loose-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("ab")).expect("temp dir");
        dir
    })
}

fuzz_target!(|object: Object| {
    let mut plain = match &object.header {
        Header::Blob => format!("blob {}\0", object.body.len()).into_bytes(),
        Header::Kind(k) => {
            let kind = ["tree", "commit", "tag", "blob", "blobx", ""][usize::from(*k) % 6];
            format!("{kind} {}\0", object.body.len()).into_bytes()
        }
        Header::Size(n) => format!("blob {n}\0").into_bytes(),
        Header::Raw(raw) => raw.clone(),
    };
    plain.extend_from_slice(&object.body);
    let mut file = if object.raw {
        plain
    } else {
        let mut z =
            gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::DEFAULT);
        z.write_all(&plain).expect("in memory");
        z.flush().expect("in memory");
        z.into_inner()
    };
    let complete = object.truncate.is_none_or(|t| usize::from(t) >= file.len());
    if let Some(t) = object.truncate {
        file.truncate(usize::from(t));
    }
    file.extend_from_slice(&object.trailing);
    let id = gix::ObjectId::from_hex(b"ab00000000000000000000000000000000000000").expect("hex");
    let dir = objects_dir();
    std::fs::write(
        dir.join("ab")
            .join("00000000000000000000000000000000000000"),
        &file,
    )
    .expect("temp file");
    let max_size = u64::from(object.max_size);
    let result = leakgate::git::loose::read_loose_blob(std::slice::from_ref(dir), &id, max_size)
        .expect("the object exists");
    let well_formed = matches!(object.header, Header::Blob)
        && !object.raw
        && complete
        && object.trailing.is_empty()
        && object.body.len() as u64 <= max_size;
    if well_formed {
        assert_eq!(result.as_deref().ok(), Some(&object.body[..]), "{result:?}");
    }
    if let Header::Size(n) = object.header {
        if n != object.body.len() as u64 {
            assert!(
                result.is_err(),
                "a blob of {} bytes read as {n}",
                object.body.len()
            );
        }
    }
    if let Ok(data) = &result {
        assert!(data.len() as u64 <= max_size);
    }
});
