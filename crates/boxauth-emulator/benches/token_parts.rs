//! The parts of one client-credentials token request, plain library calls against the
//! hand-rolled versions the emulator had before (kept here only as the baseline): random bytes
//! per call vs a thread-local 4 KiB pool, std's SipHash vs a multiply-rotate hasher for token
//! keys, `serde_json` vs a hand-written answer, `form_urlencoded` vs a one-pass form parser.
//! `cargo bench -p boxauth-emulator --bench token_parts`; figures in bench/emulator/README.md.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const BODY: &[u8] = b"grant_type=client_credentials&client_id=boxauthemulatorclientid000000001&client_secret=BoxAuthEmulatorClientSecret00001&box_subject_type=enterprise&box_subject_id=100000001";

struct Pool {
    bytes: [u8; 4096],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; 4096], used: 4096 }) };
}

fn pooled(out: &mut [u8]) {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + out.len() > 4096 {
            aws_lc_rs::rand::fill(&mut pool.bytes).unwrap();
            pool.used = 0;
        }
        let start = pool.used;
        out.copy_from_slice(&pool.bytes[start..start + out.len()]);
        pool.bytes[start..start + out.len()].fill(0);
        pool.used += out.len();
    });
}

#[derive(Default)]
struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

#[derive(serde::Serialize)]
struct Reply<'a> {
    access_token: &'a str,
    expires_in: i64,
    restricted_to: [u8; 0],
    token_type: &'a str,
}

fn hand_written(token: &str, expires_in: i64) -> Vec<u8> {
    let digits = expires_in.to_string();
    let mut out = Vec::with_capacity(80 + token.len());
    out.extend_from_slice(b"{\"access_token\":\"");
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(b"\",\"expires_in\":");
    out.extend_from_slice(digits.as_bytes());
    out.extend_from_slice(b",\"restricted_to\":[],\"token_type\":\"bearer\"}");
    out
}

fn one_pass(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let text = std::str::from_utf8(body).unwrap();
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) => (Cow::Borrowed(n), Cow::Borrowed(v)),
            None => (Cow::Borrowed(pair), Cow::Borrowed("")),
        })
        .collect()
}

fn parts(c: &mut Criterion) {
    let mut group = c.benchmark_group("random 48+8 bytes (a token and a request id)");
    group.bench_function("aws-lc per call (now)", |b| {
        b.iter(|| {
            let (mut token, mut id) = ([0u8; 48], [0u8; 8]);
            aws_lc_rs::rand::fill(&mut token).unwrap();
            aws_lc_rs::rand::fill(&mut id).unwrap();
            black_box((token, id))
        })
    });
    group.bench_function("thread-local pool (before)", |b| {
        b.iter(|| {
            let (mut token, mut id) = ([0u8; 48], [0u8; 8]);
            pooled(&mut token);
            pooled(&mut id);
            black_box((token, id))
        })
    });
    group.finish();

    let keys: Vec<String> = (0..10_000)
        .map(|i| format!("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab{i:07}"))
        .collect();
    let std_map: HashMap<&str, usize> = keys.iter().map(|k| (k.as_str(), 0)).collect();
    let fast_map: HashMap<&str, usize, BuildHasherDefault<TokenHasher>> =
        keys.iter().map(|k| (k.as_str(), 0)).collect();
    let mut group = c.benchmark_group("token map lookup");
    group.bench_function("std SipHash (now)", |b| {
        b.iter(|| black_box(std_map.get(black_box(keys[4242].as_str()))))
    });
    group.bench_function("multiply-rotate (before)", |b| {
        b.iter(|| black_box(fast_map.get(black_box(keys[4242].as_str()))))
    });
    group.finish();

    let token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    let mut group = c.benchmark_group("token answer JSON");
    group.bench_function("serde_json (now)", |b| {
        b.iter(|| {
            serde_json::to_vec(&Reply {
                access_token: black_box(token),
                expires_in: 3600,
                restricted_to: [],
                token_type: "bearer",
            })
            .unwrap()
        })
    });
    group.bench_function("hand-written (before)", |b| {
        b.iter(|| hand_written(black_box(token), 3600))
    });
    group.finish();

    let mut group = c.benchmark_group("form body");
    group.bench_function("form_urlencoded (now)", |b| {
        b.iter(|| {
            url::form_urlencoded::parse(black_box(BODY)).collect::<Vec<(Cow<str>, Cow<str>)>>()
        })
    });
    group.bench_function("one pass (before)", |b| {
        b.iter(|| one_pass(black_box(BODY)))
    });
    group.finish();
}

criterion_group!(benches, parts);
criterion_main!(benches);
