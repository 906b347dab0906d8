//! `leakgate-server` as git's pre-receive hook, end to end: real `git push` from a client
//! repository into a local bare repository whose hook was installed by `leakgate-server install`,
//! in an isolated git environment. Every test writes its own policy (audit log and fingerprint key
//! inside its temporary directory). Secrets are built at run time.

use crate::common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use common::{
    all_output, aws_key_id, check, github_token, random_alnum, remote_line, Pair, Pushed, Ran as _,
    Sandbox,
};

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_leakgate-server");

/// The client-side (unkeyed) fingerprint of the only finding in `file`, from `leakgate scan`.
fn client_fingerprint(sb: &Sandbox, dir: &Path, file: &str) -> String {
    let json = sb
        .leakgate(dir, &["scan", file, "--format", "json"])
        .expect_code(1)
        .json();
    json["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

fn short(id: &str) -> &str {
    &id[..12]
}

#[test]
fn secret_push_is_rejected_with_location_rule_and_remediation_and_the_ref_stays() {
    let pair = Pair::new("srv-basic", "");
    let first = pair.seed();
    // A small push arrives as loose objects (fewer than receive.unpackLimit = 100).
    let (loose, packs) = pair.server_objects();
    assert!(loose >= 3, "expected loose objects, found {loose}");
    assert_eq!(packs, 0);
    assert_eq!(pair.last_audit()["decision"], "accepted");

    let token = github_token(501);
    let id = pair.commit(
        &[(
            "config/app.env",
            &format!("# settings\nGITHUB_TOKEN={token}\n"),
        )],
        "add settings",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    // The wording and layout of the `remote:` lines: contracts::remote_rejection_as_the_pusher_sees_it.
    let text = &pushed.text;
    assert!(remote_line(text, "config/app.env:2:"), "{text}");
    assert!(
        remote_line(text, &format!("commit {}", short(&id))),
        "{text}"
    );
    assert!(text.contains("pre-receive hook declined"), "{text}");
    assert!(!text.contains(&token), "secret echoed:\n{text}");
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["path"], "config/app.env");
    assert_eq!(line["findings"][0]["line"], 2);
    assert_eq!(line["findings"][0]["commit"], id.as_str());

    // Take it out again: the clean history is accepted and the ref moves.
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);
    let clean = pair.commit(
        &[(
            "config/app.env",
            "# settings\nGITHUB_TOKEN=${GITHUB_TOKEN}\n",
        )],
        "add settings",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    assert_eq!(pair.server_ref("refs/heads/main"), Some(clean));
    assert_eq!(pair.last_audit()["decision"], "accepted");
}

#[test]
fn pushes_that_arrive_as_a_pack_are_scanned_through_the_quarantine() {
    let pair = Pair::new("srv-pack", "");
    // Every push, however small, now arrives as a pack kept in the quarantine.
    pair.server_git(&["config", "receive.unpackLimit", "1"]);
    pair.seed();
    let (_, packs) = pair.server_objects();
    assert_eq!(packs, 1, "the seed push should have been kept as a pack");
    let key = aws_key_id(502);
    pair.commit(&[("deploy/aws.txt", &format!("key_id = {key}\n"))], "aws");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.shows("deploy/aws.txt:1:");
    pushed.shows("aws-access-key-id");
    // Nothing of the rejected pack reached the real store.
    assert_eq!(pair.server_objects().1, 1);
}

#[test]
fn a_secret_at_the_end_of_a_big_file_is_found_loose_and_packed() {
    // Blobs over 1 MiB take their own read path (streamed when loose, no object cache when
    // packed); the edit makes the new version a delta on the old one in a pack.
    let pair = Pair::new("srv-bigfile", "");
    pair.seed();
    let body: String = (0..60_000)
        .map(|i| format!("record {i:08}: value={} ok\n", i * 31 % 1_000_003))
        .collect();
    assert!(body.len() > 1_500_000);
    pair.commit(&[("data/big.txt", &body)], "big data");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    let key = aws_key_id(503);
    pair.commit(
        &[("data/big.txt", &format!("{body}key_id = {key}\n"))],
        "more data",
    );
    for unpack_limit in ["100000", "1"] {
        pair.server_git(&["config", "receive.unpackLimit", unpack_limit]);
        let pushed = pair.push(&["origin", "main"]);
        pushed.rejected();
        pushed.says("data/big.txt:60001:");
        assert!(!pushed.text.contains(&key));
    }
    let (_, packs) = pair.server_objects();
    assert_eq!(packs, 0, "a rejected pack reached the store");
}

#[test]
fn the_binary_works_as_the_hook_through_a_symlink_and_from_a_pre_receive_d_directory() {
    // No installed script: git runs `leakgate-server` itself, with no arguments, and the policy
    // comes from the repository's git config.
    let pair = Pair::new("srv-layouts", "");
    let policy = pair.policy.display().to_string();
    pair.server_git(&["config", "leakgate.config", &policy]);
    let hook = pair.server.join("hooks/pre-receive");
    std::fs::remove_file(&hook).unwrap();
    std::os::unix::fs::symlink(SERVER_BIN, &hook).unwrap();
    let first = pair.seed();
    assert_eq!(pair.last_audit()["decision"], "accepted");
    let key = aws_key_id(504);
    pair.commit(&[("ops/keys.txt", &format!("key_id = {key}\n"))], "keys");
    let push_is_rejected = || {
        let pushed = pair.push(&["origin", "main"]);
        pushed.rejected();
        pushed.says("ops/keys.txt:1:");
        assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    };
    push_is_rejected();

    // GitLab's layout: its own pre-receive runs every executable in custom_hooks/pre-receive.d
    // with the same stdin, and refuses the push when one fails.
    std::fs::remove_file(&hook).unwrap();
    let hooks_d = pair.server.join("custom_hooks/pre-receive.d");
    std::fs::create_dir_all(&hooks_d).unwrap();
    std::os::unix::fs::symlink(SERVER_BIN, hooks_d.join("leakgate")).unwrap();
    let dispatcher = "#!/bin/sh\n\
                      input=$(cat)\n\
                      for h in \"$GIT_DIR\"/custom_hooks/pre-receive.d/*; do\n\
                      \x20 printf '%s\\n' \"$input\" | \"$h\" || exit 1\n\
                      done\n";
    std::fs::write(&hook, dispatcher).unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    push_is_rejected();
    // And a clean push goes through both layers.
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);
    let clean = pair.commit(&[("ops/readme.txt", "keys live in the vault\n")], "docs");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    assert_eq!(pair.server_ref("refs/heads/main"), Some(clean));
}

#[test]
fn five_hundred_commits_with_a_secret_added_in_250_and_removed_in_251_name_commit_250() {
    let pair = Pair::new("srv-500", "");
    let base = pair.seed();
    let token = github_token(503);
    let secret = move |i: usize| match i {
        250 => format!(
            "M 100644 inline config/deploy.env\ndata {}\nTOKEN={token}\n\n",
            token.len() + 7
        ),
        251 => "D config/deploy.env\n".to_string(),
        _ => String::new(),
    };
    pair.fast_import("big", &base, 500, secret);
    let c250 = pair.git(&pair.client, &["rev-parse", "big~250"]);
    assert_eq!(
        pair.git(&pair.client, &["log", "-1", "--format=%s", &c250]),
        "big: change 250"
    );
    // The tip is clean: only a scan of every new commit finds it.
    let tip_tree = pair.git(&pair.client, &["ls-tree", "-r", "--name-only", "big"]);
    assert!(!tip_tree.contains("deploy.env"), "{tip_tree}");

    // ~2000 objects: more than receive.unpackLimit, so they arrive as a pack.
    let pushed = pair.push(&["origin", "big"]);
    pushed.rejected();
    pushed.shows(&format!("commit {}", short(&c250)));
    pushed.shows("config/deploy.env:1:");
    assert!(pushed.text.contains("push rejected: 1 secret in 1 commit"));
    assert!(
        pushed
            .text
            .contains(&format!("git rebase -i {}^", short(&c250)))
            || pushed.text.contains(&format!("git rebase -i {c250}^")),
        "{}",
        pushed.text
    );
    assert_eq!(pair.server_ref("refs/heads/big"), None);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"].as_array().unwrap().len(), 1);
    assert_eq!(line["findings"][0]["commit"], c250.as_str());
    assert_eq!(line["scanned"]["commits"], 500);

    // The same push as loose objects (unpackLimit above the object count): same answer.
    pair.server_git(&["config", "receive.unpackLimit", "100000"]);
    let pushed = pair.push(&["origin", "big"]);
    pushed.rejected();
    pushed.shows(&format!("commit {}", short(&c250)));

    // Clean 500-commit branches are accepted and scanned in full, arriving loose...
    let (loose_before, packs_before) = pair.server_objects();
    pair.fast_import("clean-loose", &base, 500, |_| String::new());
    let pushed = pair.push(&["origin", "clean-loose"]);
    pushed.accepted();
    let (loose, packs) = pair.server_objects();
    assert!(loose >= loose_before + 1500, "{loose_before} -> {loose}");
    assert_eq!(packs, packs_before);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["scanned"]["commits"], 500);

    // ...or as a pack (the default unpackLimit, 100 objects).
    pair.server_git(&["config", "--unset", "receive.unpackLimit"]);
    pair.fast_import("clean-pack", &base, 500, |_| String::new());
    let pushed = pair.push(&["origin", "clean-pack"]);
    pushed.accepted();
    assert_eq!(pair.server_objects(), (loose, packs + 1));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["scanned"]["commits"], 500);
}

#[test]
fn evil_merge_is_rejected_and_a_clean_merge_of_pushed_history_is_accepted() {
    let pair = Pair::new("srv-merge", "");
    pair.seed();
    // A side branch carrying a secret that was let through (bypass): accepted history.
    pair.git(&pair.client, &["checkout", "-q", "-b", "side"]);
    let side_token = github_token(504);
    pair.commit(
        &[("side/fixture.env", &format!("TOKEN={side_token}\n"))],
        "side work",
    );
    let pushed = pair.push(&[
        "-o",
        "leakgate.bypass=test fixture, revoked",
        "origin",
        "side",
    ]);
    pushed.accepted();
    pair.git(&pair.client, &["checkout", "-q", "main"]);
    let main_tip = pair.commit(&[("main.txt", "main work\n")], "main work");
    assert!(pair.push(&["origin", "main"]).ok);

    // Evil merge: the merge commit's tree adds a secret that neither parent has.
    let key = aws_key_id(505);
    pair.git(
        &pair.client,
        &["merge", "-q", "--no-ff", "--no-commit", "side"],
    );
    let merge = pair.commit(
        &[("merged/creds.txt", &format!("id {key}\n"))],
        "Merge side",
    );
    assert_eq!(
        pair.git(&pair.client, &["rev-list", "--parents", "-1", "HEAD"])
            .split(' ')
            .count(),
        3,
        "not a merge"
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.shows(&format!("commit {}", short(&merge)));
    pushed.shows("merged/creds.txt:1:");
    // What the side branch brought is accepted history: not reported again.
    assert!(!pushed.text.contains("side/fixture.env"), "{}", pushed.text);
    pushed.shows("push rejected: 1 secret in 1 commit");
    assert_eq!(pair.server_ref("refs/heads/main"), Some(main_tip.clone()));

    // A clean merge of the already-pushed side branch brings nothing new: accepted.
    pair.git(&pair.client, &["reset", "-q", "--hard", &main_tip]);
    pair.git(
        &pair.client,
        &["merge", "-q", "--no-ff", "-m", "Merge side", "side"],
    );
    let merge = pair.git(&pair.client, &["rev-parse", "HEAD"]);
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    assert_eq!(pair.server_ref("refs/heads/main"), Some(merge));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["scanned"]["commits"], 1);
    assert_eq!(line["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn secret_in_an_annotated_tag_message_is_rejected() {
    let pair = Pair::new("srv-tag", "");
    pair.seed();
    let token = github_token(506);
    pair.git(
        &pair.client,
        &[
            "tag",
            "-a",
            "v1",
            "-m",
            &format!("release 1\n\ndeploy with {token}\n"),
        ],
    );
    let tag = pair.git(&pair.client, &["rev-parse", "v1"]);
    let pushed = pair.push(&["origin", "v1"]);
    pushed.rejected();
    pushed.shows("tag message");
    pushed.shows("github-personal-access-token");
    assert!(!pushed.text.contains(&token));
    assert_eq!(pair.server_ref("refs/tags/v1"), None);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["commit"], tag.as_str());

    // A clean annotated tag goes through.
    pair.git(&pair.client, &["tag", "-a", "v2", "-m", "release 2"]);
    let pushed = pair.push(&["origin", "v2"]);
    pushed.accepted();
    assert!(pair.server_ref("refs/tags/v2").is_some());
}

#[test]
fn deleting_a_branch_is_accepted() {
    let pair = Pair::new("srv-delete", "");
    pair.seed();
    pair.git(&pair.client, &["checkout", "-q", "-b", "topic"]);
    pair.commit(&[("topic.txt", "topic\n")], "topic");
    assert!(pair.push(&["origin", "topic"]).ok);
    assert!(pair.server_ref("refs/heads/topic").is_some());
    let pushed = pair.push(&["origin", ":topic"]);
    pushed.accepted();
    assert_eq!(pair.server_ref("refs/heads/topic"), None);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["scanned"]["commits"], 0);
    assert_eq!(line["refs"][0]["ref"], "refs/heads/topic");
    assert_eq!(line["refs"][0]["new"], "0".repeat(40));
}

#[test]
fn force_push_scans_only_the_new_commits() {
    let pair = Pair::new("srv-force", "");
    pair.seed();
    // History on the server with a secret allowed by its fingerprint in `.leakgateignore`.
    let token = github_token(507);
    let env = format!("TOKEN={token}\n");
    pair.commit(&[("fixtures/token.env", &env)], "fixture");
    let fingerprint = client_fingerprint(&pair.sb, &pair.client, "fixtures/token.env");
    let allowed = pair.commit(
        &[(
            ".leakgateignore",
            &format!("{fingerprint}  # test fixture\n"),
        )],
        "allow the fixture",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    pair.commit(&[("later.txt", "later\n")], "later");
    assert!(pair.push(&["origin", "main"]).ok);

    // Rewrite: back to `allowed`, drop the ignore file, two new commits, force-push. Were the old
    // history scanned again, the fixture would be reported (the ignore file is gone).
    pair.git(&pair.client, &["reset", "-q", "--hard", &allowed]);
    pair.git(&pair.client, &["rm", "-q", ".leakgateignore"]);
    pair.git(
        &pair.client,
        &["commit", "-q", "-m", "drop the ignore file"],
    );
    let tip = pair.commit(&[("rewritten.txt", "new\n")], "rewritten");
    let pushed = pair.push(&["--force", "origin", "main"]);
    pushed.accepted();
    pushed.shows("forced update");
    assert_eq!(pair.server_ref("refs/heads/main"), Some(tip));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["scanned"]["commits"], 2, "{line}");
    assert_eq!(line["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn several_refs_in_one_push_are_all_scanned() {
    let pair = Pair::new("srv-refs", "");
    pair.seed();
    let mut ids = Vec::new();
    for (name, content) in [
        ("a", "alpha\n".to_string()),
        ("b", "beta\n".to_string()),
        ("c", format!("TOKEN={}\n", github_token(508))),
    ] {
        pair.git(&pair.client, &["checkout", "-q", "-b", name, "main"]);
        ids.push(pair.commit(&[(&format!("{name}.env"), &content)], name));
    }
    let pushed = pair.push(&["origin", "a", "b", "c"]);
    pushed.rejected();
    pushed.shows("c.env:1:");
    assert!(pushed.text.contains(&format!("commit {}", short(&ids[2]))));
    for name in ["a", "b", "c"] {
        assert_eq!(pair.server_ref(&format!("refs/heads/{name}")), None);
    }
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["refs"].as_array().unwrap().len(), 3);
    assert_eq!(line["scanned"]["commits"], 3);
    assert_eq!(line["findings"][0]["commit"], ids[2].as_str());
}

#[test]
fn a_pushed_leakgate_yaml_cannot_switch_the_scan_off() {
    let pair = Pair::new("srv-pushed-config", "");
    pair.seed();
    let out = pair.sb.leakgate(&pair.client, &["rules", "list"]);
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    let ids: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert!(ids.len() > 100, "{listing}");
    let yaml = format!(
        "disable: [{}]\nallow:\n  paths: ['.*']\n  values: ['.*']\n",
        ids.join(", ")
    );
    // The client would be silenced by it...
    pair.commit(&[(".leakgate.yaml", &yaml)], "config");
    let token = github_token(509);
    std::fs::write(pair.client.join("app.env"), format!("TOKEN={token}\n")).unwrap();
    pair.sb
        .leakgate(&pair.client, &["scan", "app.env"])
        .expect_code(0);
    pair.commit(&[], "app");
    // ...the server is not.
    let pushed = pair.push(&["origin", "main"]);
    assert!(
        !pushed.ok,
        "pushed config disabled the server scan:\n{}",
        pushed.text
    );
    pushed.shows("app.env:1:");
    assert!(pushed.text.contains("github-personal-access-token"));
}

#[test]
fn bypass_with_a_reason_is_accepted_and_audited_without_the_secret() {
    let pair = Pair::new("srv-bypass", "");
    pair.seed();
    let token = github_token(510);
    let id = pair.commit(&[("ci/token.env", &format!("TOKEN={token}\n"))], "ci");
    let client_fp = client_fingerprint(&pair.sb, &pair.client, "ci/token.env");
    let reason = "revoked at GitHub already, ticket SEC-42";
    let pushed = pair.push(&["-o", &format!("leakgate.bypass={reason}"), "origin", "main"]);
    pushed.accepted();
    pushed.shows("bypass accepted");
    pushed.shows("ci/token.env:1");
    pushed.shows("revoke");
    assert!(!pushed.text.contains(&token));
    assert_eq!(pair.server_ref("refs/heads/main"), Some(id.clone()));

    let raw = std::fs::read_to_string(&pair.audit).unwrap();
    assert!(!raw.contains(&token), "secret in the audit log:\n{raw}");
    assert!(
        !raw.contains(&token[4..20]),
        "most of the secret in the audit log"
    );
    let line = pair.last_audit();
    assert_eq!(line["decision"], "bypassed");
    assert_eq!(line["bypass_reason"], reason);
    let finding = &line["findings"][0];
    assert_eq!(finding["commit"], id.as_str());
    assert_eq!(finding["path"], "ci/token.env");
    assert_eq!(finding["rule"], "github-personal-access-token");
    let keyed = finding["fingerprint"].as_str().expect("no fingerprint");
    let (rule, hex) = keyed.rsplit_once(':').unwrap();
    assert_eq!(rule, "github-personal-access-token");
    assert_eq!(hex.len(), 16);
    assert_ne!(keyed, client_fp, "the audit fingerprint is not keyed");
    assert!(pair.key.exists(), "the key file was not created");
}

#[test]
fn bypass_without_a_reason_or_not_allowed_is_rejected() {
    let pair = Pair::new("srv-bypass-refused", "");
    let first = pair.seed();
    let token = github_token(511);
    pair.commit(&[("ci/token.env", &format!("TOKEN={token}\n"))], "ci");
    let main = || pair.server_ref("refs/heads/main");

    for option in ["leakgate.bypass=", "leakgate.bypass", "leakgate.bypass=   "] {
        let pushed = pair.push(&["-o", option, "origin", "main"]);
        pushed.rejected();
        pushed.shows("a reason is required");
        assert_eq!(main().as_deref(), Some(&*first));
        assert_eq!(pair.last_audit()["decision"], "rejected");
    }

    pair.set_policy("bypass: {enabled: false}\n");
    let pushed = pair.push(&["-o", "leakgate.bypass=please", "origin", "main"]);
    pushed.rejected();
    pushed.shows("does not allow bypassing");
    assert!(!pushed.text.contains("git push -o leakgate.bypass"));
    assert_eq!(main().as_deref(), Some(&*first));

    // Without `pusher_variable`, what the pusher's environment claims is recorded, never trusted.
    pair.set_policy("bypass: {users: [someone-else]}\n");
    let env = [("GL_USERNAME", "someone-else")];
    let pushed = pair.push_from(
        &pair.client,
        &["-o", "leakgate.bypass=please", "origin", "main"],
        &env,
    );
    pushed.rejected();
    pushed.shows("may not bypass");
    let line = pair.last_audit();
    assert_eq!(line["claimed_pusher"], "someone-else");
    assert_ne!(line["pusher"], "someone-else");
    assert_eq!(main().as_deref(), Some(&*first));

    pair.set_policy("pusher_variable: GL_USERNAME\nbypass: {users: [someone-else]}\n");
    let env = [("GL_USERNAME", "mallory")];
    let pushed = pair.push_from(
        &pair.client,
        &["-o", "leakgate.bypass=please", "origin", "main"],
        &env,
    );
    pushed.rejected();
    pushed.shows("mallory may not bypass");
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["pusher"], "mallory");
    assert_eq!(main().as_deref(), Some(&*first));

    // A listed user may.
    let env = [("GL_USERNAME", "someone-else")];
    let pushed = pair.push_from(
        &pair.client,
        &["-o", "leakgate.bypass=fixture", "origin", "main"],
        &env,
    );
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "bypassed");
    assert_eq!(line["pusher"], "someone-else");
}

#[test]
fn tiny_time_budget_follows_on_timeout_both_ways() {
    let pair = Pair::new("srv-timeout", "");
    let first = pair.seed();
    // Enough commits that 1 ms cannot cover them.
    pair.fast_import("main", &first, 400, |_| String::new());

    pair.set_policy("time_budget_ms: 1\non_timeout: reject\n");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.shows("time budget");
    pushed.shows("push rejected");
    assert_eq!(pair.server_ref("refs/heads/main"), Some(first));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected-on-timeout");
    assert!(line["detail"].as_str().unwrap().contains("time budget"));

    pair.set_policy("time_budget_ms: 1\non_timeout: accept\n");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    pushed.shows("without a complete scan");
    assert_eq!(
        pair.server_ref("refs/heads/main"),
        Some(pair.git(&pair.client, &["rev-parse", "HEAD"]))
    );
    assert_eq!(pair.last_audit()["decision"], "accepted-on-timeout");
}

#[test]
fn corrupt_object_is_rejected_naming_the_commit_and_path() {
    let pair = Pair::new("srv-corrupt", "");
    pair.seed();
    pair.commit(&[("data.txt", "one\ntwo\n")], "data");
    assert!(pair.push(&["origin", "main"]).ok);
    let good = pair.server_ref("refs/heads/main").unwrap();
    // The small push arrived loose: overwrite the blob's object file with garbage.
    let blob = pair.corrupt_server_blob("HEAD:data.txt");

    // An edit of that file: the hook must read the old (corrupt) blob to diff against it.
    let edit = pair.commit(&[("data.txt", "one\ntwo\nthree\n")], "edit data");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.shows("could not be scanned");
    pushed.shows(&edit);
    pushed.shows("data.txt");
    pushed.shows(&blob);
    assert_eq!(pair.server_ref("refs/heads/main"), Some(good));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected-on-error");
    assert!(line["detail"].as_str().unwrap().contains(&edit));

    // on_error: accept lets it through, recorded.
    pair.set_policy("on_error: accept\n");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    assert_eq!(pair.last_audit()["decision"], "accepted-on-error");
}

#[test]
fn ten_concurrent_pushes_are_each_decided_and_audited_once() {
    // Five kinds of push, two of each, all at once: a secret (rejected), a clean change, a
    // secret with a bypass, a secret under an allow marker (suppression recorded) and a file over
    // the cap that the policy accepts unscanned (skip recorded).
    let pair = Pair::new(
        "srv-concurrent",
        "max_blob_bytes: 4000\non_unscanned: accept\n",
    );
    pair.seed();
    let before = pair.audit_lines().len();
    let server = pair.server.display().to_string();
    let kind = |i: usize| i % 5;
    let clients: Vec<PathBuf> = (0..10usize)
        .map(|i| {
            let name = format!("clone-{i}");
            pair.git(&pair.sb.tmp.0, &["clone", "-q", &server, &name]);
            let dir = pair.sb.tmp.join(&name);
            pair.git(&dir, &["checkout", "-q", "-b", &format!("branch-{i}")]);
            let token = github_token(600 + i as u64);
            let content = match kind(i) {
                0 | 2 => format!("TOKEN={token}\n"),
                1 => format!("clean change {i}\n"),
                3 => format!("TOKEN={token}  # leakgate:allow\n"),
                _ => "x".repeat(5000) + "\n",
            };
            pair.commit_in(&dir, &[(&format!("work-{i}.env"), &content)], "work");
            dir
        })
        .collect();
    let results: Vec<Pushed> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, dir)| {
                let pair = &pair;
                scope.spawn(move || {
                    let branch = format!("branch-{i}");
                    let mut args = vec!["origin", branch.as_str()];
                    if kind(i) == 2 {
                        args.splice(0..0, ["-o", "leakgate.bypass=rotated already, SEC-7"]);
                    }
                    pair.push_from(dir, &args, &[])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, pushed) in results.iter().enumerate() {
        let branch = format!("refs/heads/branch-{i}");
        if kind(i) == 0 {
            pushed.rejected();
            pushed.shows(&format!("work-{i}.env:1:"));
            assert_eq!(pair.server_ref(&branch), None);
        } else {
            pushed.accepted();
            assert!(pair.server_ref(&branch).is_some());
        }
    }
    let lines = pair.audit_lines();
    assert_eq!(lines.len(), before + 10, "audit lines: {lines:#?}");
    let mut seen = std::collections::BTreeSet::new();
    for line in &lines[before..] {
        let name = line["refs"][0]["ref"].as_str().unwrap();
        let i: usize = name
            .strip_prefix("refs/heads/branch-")
            .unwrap()
            .parse()
            .unwrap();
        assert!(seen.insert(i), "two lines for {name}");
        let path = format!("work-{i}.env");
        let expected = [
            "rejected",
            "accepted",
            "bypassed",
            "accepted-with-suppressions",
            "accepted-with-unscanned",
        ][kind(i)];
        assert_eq!(line["decision"], expected, "{line}");
        match kind(i) {
            0 | 2 => assert_eq!(line["findings"][0]["path"], path.as_str(), "{line}"),
            3 => {
                assert_eq!(line["suppressed"][0]["kind"], "allow-marker", "{line}");
                assert_eq!(line["suppressed"][0]["path"], path.as_str(), "{line}");
            }
            4 => {
                assert_eq!(line["skipped"][0]["reason"], "too-large", "{line}");
                assert_eq!(line["skipped"][0]["path"], path.as_str(), "{line}");
            }
            _ => assert_eq!(line["findings"], serde_json::json!([]), "{line}"),
        }
    }
    assert_eq!(seen.len(), 10);
}

#[test]
fn check_config_accepts_a_valid_policy_and_points_at_errors() {
    let sb = Sandbox::new("srv-check-config");
    let dir = sb.dir("work");
    let run = |name: &str, text: &str| {
        let path = dir.write(name, text);
        let out = dir.run(SERVER_BIN, &["check-config", path.to_str().unwrap()]);
        (
            out.status.code(),
            all_output(&out),
            path.display().to_string(),
        )
    };

    let (code, text, _) = run(
        "good.yaml",
        "time_budget_ms: 2500\non_timeout: accept\non_error: reject\n\
         allow:\n  paths: ['^vendor/']\n  values: ['EXAMPLE']\n\
         repository_files: {allow_markers: false, ignore_file: true}\n\
         bypass: {enabled: true, push_option: leakgate.bypass, users: [alice]}\n\
         max_blob_bytes: 1000000\naudit_log: /tmp/audit.jsonl\n",
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok"), "{text}");

    let (code, text, path) = run("malformed.yaml", "time_budget_ms: 10\nallow: {paths: [\n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("{path}:")), "{text}");
    let after = &text[text.find(&format!("{path}:")).unwrap() + path.len() + 1..];
    let mut parts = after.splitn(3, ':');
    let line = parts.next().unwrap();
    let column = parts.next().unwrap();
    assert!(
        line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok(),
        "no line:column in {text}"
    );

    let (code, text, path) = run("wrong-type.yaml", "time_budget_ms: 10\non_timeout: maybe\n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("{path}:2:")), "{text}");

    let (code, text, path) = run(
        "unknown.yaml",
        "time_budget_ms: 10\nbypass:\n  enable: false\n",
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("{path}:3:3")), "{text}");
    assert!(text.contains("unknown field `enable`"), "{text}");

    let (code, text, path) = run("top-unknown.yaml", "time_budget: 10\n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("{path}:1:1")), "{text}");
    assert!(text.contains("unknown field `time_budget`"), "{text}");
}

#[test]
fn pushed_file_names_with_control_characters_are_escaped() {
    let pair = Pair::new("srv-escape", "");
    pair.seed();
    let token = github_token(512);
    let name = "logs/\u{1b}[2J\u{1b}[31mok\u{7}\nremote: all clear\u{202e}vne.txt";
    pair.commit(&[(name, &format!("TOKEN={token}\n"))], "tricky name");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    let text = &pushed.text;
    assert!(
        !text.contains('\u{1b}'),
        "raw escape reached the pusher:\n{text:?}"
    );
    assert!(
        !text.contains('\u{7}'),
        "raw bell reached the pusher:\n{text:?}"
    );
    assert!(!text.contains('\u{202e}'), "raw bidi override:\n{text:?}");
    assert!(
        text.contains("logs/\\u{1b}[2J\\u{1b}[31mok\\u{7}\\nremote: all clear\\u{202e}vne.txt:1:"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("remote: all clear")),
        "a pushed name forged a remote: line:\n{text}"
    );
}

/// Regression: the fingerprint a report tells you to ignore silenced the specific rule's finding,
/// and the catch-all rule (`generic-env-secret`) then reported the same value under its own
/// fingerprint, on the client and on the server alike.
#[test]
fn ignored_fingerprint_is_not_reported_again_by_a_catch_all_rule() {
    let sb = Sandbox::new("srv-ignore-catch-all");
    // Its own work tree (the ignore file is read at the work-tree root).
    let repo = sb.repo("repo");
    repo.write("token.env", format!("TOKEN={}\n", github_token(507)));
    let fingerprint = client_fingerprint(&sb, &repo.dir, "token.env");
    assert!(fingerprint.starts_with("github-personal-access-token:"));
    repo.write(".leakgateignore", format!("{fingerprint}  # fixture\n"));
    repo.leakgate(&["scan", "token.env"]).expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// Nothing reaches the repository unscanned: every pushed object, encoding, size and header.

#[test]
fn a_tag_of_a_blob_and_an_annotated_tag_of_a_tree_are_rejected() {
    let pair = Pair::new("srv-tag-objects", "");
    pair.seed();
    let token = github_token(601);
    pair.write_bytes("secret.txt", format!("token={token}\n").as_bytes());
    let blob = pair.git(&pair.client, &["hash-object", "-w", "secret.txt"]);
    pair.git(&pair.client, &["tag", "t-blob", &blob]);
    let pushed = pair.push(&["origin", "t-blob"]);
    pair.assert_rejected(
        &pushed,
        &format!("refs/tags/t-blob (blob {blob}):1"),
        &token,
    );
    assert_eq!(pair.server_ref("refs/tags/t-blob"), None);

    pair.git(&pair.client, &["add", "secret.txt"]);
    let tree = pair.git(&pair.client, &["write-tree"]);
    pair.git(
        &pair.client,
        &["tag", "-a", "-m", "just a tree", "t-tree", &tree],
    );
    // A tag of that tag: every level is peeled.
    pair.git(
        &pair.client,
        &["tag", "-a", "-m", "outer", "t-outer", "t-tree"],
    );
    let pushed = pair.push(&["origin", "t-outer"]);
    pair.assert_rejected(&pushed, "refs/tags/t-outer:secret.txt:1", &token);
}

#[test]
fn a_key_rotated_inside_an_unchanged_pem_block_is_rejected_and_an_unrelated_edit_is_not() {
    let pair = Pair::new("srv-pem", "");
    pair.seed();
    let begin = "-----BEGIN RSA PRIVATE KEY-----";
    let end = "-----END RSA PRIVATE KEY-----";
    let body = |seed: u64| -> String {
        (0..25)
            .map(|i| common::random_alnum(seed * 100 + i, 64))
            .collect::<Vec<_>>()
            .join("\n")
    };
    pair.commit(
        &[("key.pem", &format!("{begin}\nplaceholder\n{end}\n"))],
        "template",
    );
    assert!(pair.push(&["origin", "main"]).ok);
    let first = body(1);
    pair.commit(&[("key.pem", &format!("{begin}\n{first}\n{end}\n"))], "key");
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "key.pem:2", &first);
    // Accepted on purpose (a bypass), then rotated in place, then an unrelated line added.
    let pushed = pair.push(&["origin", "main", "-o", "leakgate.bypass=test key"]);
    pushed.accepted();
    let second = body(2);
    pair.commit(
        &[("key.pem", &format!("{begin}\n{second}\n{end}\n"))],
        "rotate",
    );
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "key.pem:2", &second);
    pair.git(&pair.client, &["reset", "-q", "--hard", "HEAD~1"]);
    pair.commit(
        &[("key.pem", &format!("# test key\n{begin}\n{first}\n{end}\n"))],
        "comment",
    );
    let pushed = pair.push(&["origin", "main"]);
    assert!(
        pushed.ok,
        "an unchanged block was reported:\n{}",
        pushed.text
    );
}

#[test]
fn binary_and_utf16_files_are_scanned_and_rejected() {
    let pair = Pair::new("srv-encodings", "");
    pair.seed();
    let token = github_token(611);
    let mut binary = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n".to_vec();
    binary.extend_from_slice(format!("k={token}\n").as_bytes());
    pair.write_bytes("img/logo.png", &binary);
    pair.git(&pair.client, &["add", "-A"]);
    pair.git(&pair.client, &["commit", "-q", "-m", "logo"]);
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "img/logo.png:4", &token);

    pair.git(&pair.client, &["reset", "-q", "--hard", "HEAD~1"]);
    let text = format!("Windows Registry Editor Version 5.00\r\n\r\n\"Token\"=\"{token}\"\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    pair.write_bytes("settings.reg", &utf16);
    pair.git(&pair.client, &["add", "-A"]);
    pair.git(&pair.client, &["commit", "-q", "-m", "settings"]);
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "settings.reg:3", &token);
}

/// A value the filters drop (a decoy) runs over the next key name; the token after that name is
/// still found (regex matches do not overlap, so the search goes on inside a rejected match).
#[test]
fn a_token_behind_a_decoy_that_runs_over_its_key_name_is_rejected() {
    let pair = Pair::new("srv-decoy", "");
    pair.seed();
    let token = random_alnum(613, 20);
    let line = format!("pagerduty_token=xxxxxxxxxx_pagerduty.token={token}\n");
    pair.commit(&[("ops/pager.env", &line)], "pager settings");
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "ops/pager.env:1:44", &token);
}

#[test]
fn a_secret_value_after_a_rejected_one_under_the_same_header_is_rejected() {
    let pair = Pair::new("srv-blanked", "");
    pair.seed();
    let value = random_alnum(617, 32);
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: {}\n  dbkey: {value}\n",
        "A".repeat(20)
    );
    pair.commit(&[("k8s/db.yaml", &manifest)], "db secret");
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "k8s/db.yaml:7:10", &value);
}

#[test]
fn a_50_mb_pushed_file_with_a_key_on_its_last_line_is_rejected() {
    let pair = Pair::new("srv-50mb", "");
    pair.seed();
    let key = aws_key_id(621);
    let line = "function f(a, b) { return a + b; } /* padding padding padding */\n";
    let mut data = line.repeat(50_000_000 / line.len());
    let lines = data.lines().count() + 1;
    data.push_str(&format!("var id = \"{key}\";\n"));
    pair.write_bytes("dist/bundle.js", data.as_bytes());
    drop(data);
    pair.git(&pair.client, &["add", "-A"]);
    pair.git(&pair.client, &["commit", "-q", "-m", "bundle"]);
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, &format!("dist/bundle.js:{lines}:"), &key);
}

#[test]
fn a_blob_over_the_cap_is_rejected_and_recorded_unless_the_policy_accepts_it() {
    let pair = Pair::new("srv-cap", "max_blob_bytes: 1000\n");
    let base = pair.seed();
    let padding = "x".repeat(5000);
    let id = pair.commit(&[("big.txt", &format!("{padding}\n"))], "big");
    for unpack_limit in ["100000", "1"] {
        // Loose: the first 1000 bytes are scanned; packed: not read.
        pair.server_git(&["config", "receive.unpackLimit", unpack_limit]);
        let pushed = pair.push(&["origin", "main"]);
        pushed.rejected();
        pushed.says("big.txt");
        pushed.says("5001 bytes");
        pushed.says("over the server's size cap");
        let audit = pair.last_audit();
        assert_eq!(audit["decision"], "rejected-on-unscanned");
        assert_eq!(audit["skipped"][0]["path"], "big.txt");
        assert_eq!(audit["skipped"][0]["commit"], id.as_str());
        assert_eq!(audit["skipped"][0]["reason"], "too-large");
    }
    assert_eq!(pair.server_ref("refs/heads/main").unwrap(), base);
    pair.set_policy("max_blob_bytes: 1000\non_unscanned: accept\n");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    let audit = pair.last_audit();
    assert_eq!(audit["decision"], "accepted-with-unscanned");
    assert_eq!(audit["skipped"][0]["reason"], "too-large");
}

#[test]
fn secrets_in_author_committer_and_tagger_names_are_rejected() {
    let pair = Pair::new("srv-idents", "");
    pair.seed();
    let token = github_token(631);
    let author = format!("{token} <dev@example.invalid>");
    pair.write_bytes("a.txt", b"clean\n");
    pair.git(&pair.client, &["add", "-A"]);
    pair.git(
        &pair.client,
        &["commit", "-q", "-m", "x", "--author", &author],
    );
    let pushed = pair.push(&["origin", "main"]);
    pair.assert_rejected(&pushed, "(commit author/committer):1", &token);
    pair.git(&pair.client, &["reset", "-q", "--hard", "HEAD~1"]);
    let out = pair
        .cmd(&pair.client, "git")
        .args(["tag", "-a", "-m", "release", "v1"])
        .env("GIT_COMMITTER_EMAIL", format!("{token}@example.invalid"))
        .output()
        .unwrap();
    check(out, "git tag");
    let pushed = pair.push(&["origin", "v1"]);
    pair.assert_rejected(&pushed, "(tag header refs/tags/v1)", &token);
}

#[test]
fn a_sha256_repository_is_refused_with_an_error_that_names_the_format() {
    let pair = Pair::new("srv-sha256", "");
    let top = pair.sb.tmp.0.clone();
    pair.git(
        &top,
        &["init", "-q", "--bare", "--object-format=sha256", "s256.git"],
    );
    let hook = top.join("s256.git/hooks/pre-receive");
    std::os::unix::fs::symlink(SERVER_BIN, &hook).unwrap();
    pair.git(
        &top,
        &[
            "--git-dir",
            "s256.git",
            "config",
            "leakgate.config",
            pair.policy.to_str().unwrap(),
        ],
    );
    pair.git(
        &top,
        &["init", "-q", "--object-format=sha256", "-b", "main", "c256"],
    );
    let client = top.join("c256");
    pair.commit_in(&client, &[("README", "readme\n")], "init");
    let pushed = pair.push_from(&client, &["../s256.git", "main"], &[]);
    pushed.rejected();
    pushed.says("sha256 object format");
    // A refusal before any decision is recorded too.
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected-before-scan", "{line}");
    assert!(
        line["detail"].as_str().unwrap().contains("sha256"),
        "{line}"
    );
}

#[test]
fn a_very_deep_tree_is_scanned_without_exhausting_the_stack() {
    let pair = Pair::new("srv-deep", "");
    let base = pair.seed();
    let token = github_token(641);
    let path = format!("{}/s.txt", vec!["d"; 20_000].join("/"));
    let content = format!("token={token}\n");
    let stream = format!(
        "commit refs/heads/main\ncommitter Test <t@example.invalid> 1767225600 +0000\ndata 4\ndeep\nfrom {base}\nM 100644 inline {path}\ndata {}\n{content}\ndone\n",
        content.len()
    );
    let out = pair.sb.run_with_input(
        &pair.client,
        "git",
        &["fast-import", "--quiet", "--done"],
        stream.as_bytes(),
    );
    check(out, "git fast-import");
    // git itself refuses trees deeper than core.maxTreeDepth (4096); a server may allow more.
    pair.server_git(&["config", "core.maxTreeDepth", "100000"]);
    pair.git(&pair.client, &["config", "core.maxTreeDepth", "100000"]);
    let pushed = pair.push(&["origin", "main"]);
    let tail: String = pushed
        .text
        .chars()
        .rev()
        .take(2000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(!pushed.ok, "{tail}");
    assert!(remote_line(&pushed.text, "/s.txt:1:"), "{tail}");
    assert!(!pushed.text.contains(&token));
    assert_eq!(pair.last_audit()["decision"], "rejected");
}

// ---------------------------------------------------------------------------------------------
// Policy integrity: a found secret always counts; the pusher cannot pick the policy.

#[test]
fn a_secret_found_before_the_scan_fails_rejects_even_under_on_error_accept() {
    let pair = Pair::new("srv-error-findings", "on_error: accept\n");
    pair.seed();
    pair.commit(&[("data.txt", "one\ntwo\n")], "data");
    assert!(pair.push(&["origin", "main"]).ok);
    // Break the accepted blob that the next edit is diffed against.
    pair.corrupt_server_blob("HEAD:data.txt");
    pair.commit(&[("data.txt", "one\ntwo\nthree\n")], "edit data");
    // The newest commit is scanned first: its key is found before the scan fails.
    let key = aws_key_id(701);
    pair.commit(&[("deploy.env", &format!("KEY_ID={key}\n"))], "deploy");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.says("deploy.env:1");
    pushed.says("stopped early after 1 of 2 commits");
    assert!(!pushed.text.contains(&key));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["path"], "deploy.env");
    assert_eq!(line["scanned"]["commits"], 1);
}

#[test]
fn the_pushers_environment_cannot_choose_the_policy_and_the_hook_names_its_config() {
    let pair = Pair::new("srv-env-policy", "");
    let hook = std::fs::read_to_string(pair.server.join("hooks/pre-receive")).unwrap();
    assert!(hook.contains("pre-receive --config"), "{hook}");
    pair.seed();
    let evil = pair.sb.tmp.join("evil.yaml");
    std::fs::write(&evil, "allow: {paths: ['.*']}\naudit_log: /dev/null\n").unwrap();
    let token = github_token(711);
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    let pushed = pair.push_from(
        &pair.client,
        &["origin", "main"],
        &[("LEAKGATE_SERVER_CONFIG", evil.to_str().unwrap())],
    );
    pushed.rejected();
    assert_eq!(pair.last_audit()["decision"], "rejected");
}

#[test]
fn honoured_suppressions_are_recorded_and_the_decision_says_so() {
    let pair = Pair::new("srv-suppressed", "");
    pair.seed();
    let token = github_token(721);
    pair.commit(
        &[(
            "fixture.py",
            &format!("T = \"{token}\"  # leakgate:allow\n"),
        )],
        "fixture",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    pushed.says("suppressed");
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted-with-suppressions");
    assert_eq!(line["suppressed"][0]["kind"], "allow-marker");
    assert_eq!(line["suppressed"][0]["path"], "fixture.py");
    assert!(line["suppressed"][0]["fingerprint"].is_string());
    assert!(!line.to_string().contains(&token));
}

#[test]
fn an_audit_log_that_cannot_be_written_rejects_with_a_neutral_message_unless_accepted() {
    let pair = Pair::new("srv-audit-failure", "");
    pair.seed();
    pair.commit(&[("a.txt", "clean\n")], "clean");
    // The log path is a directory: every append fails.
    let broken = pair.sb.tmp.join("log-is-a-dir");
    std::fs::create_dir_all(&broken).unwrap();
    let policy = |extra: &str| {
        format!(
            "audit_log: '{}'\nfingerprint_key_file: '{}'\n{extra}",
            broken.display(),
            pair.key.display()
        )
    };
    std::fs::write(&pair.policy, policy("")).unwrap();
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.says("could not record this push");
    assert!(
        !pushed.text.contains(broken.to_str().unwrap()),
        "the server path leaked: {}",
        pushed.text
    );
    std::fs::write(&pair.policy, policy("on_audit_failure: accept\n")).unwrap();
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
}

#[test]
fn the_first_bypass_option_with_a_reason_wins() {
    let pair = Pair::new("srv-bypass-options", "");
    pair.seed();
    let token = github_token(731);
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    let pushed = pair.push(&[
        "-o",
        "leakgate.bypass",
        "-o",
        "leakgate.bypass=test fixture",
        "origin",
        "main",
    ]);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "bypassed");
    assert_eq!(line["bypass_reason"], "test fixture");
}

#[test]
fn a_pem_block_completed_by_adding_its_end_line_is_rejected() {
    let pair = Pair::new("srv-pem-complete", "");
    pair.seed();
    let begin = "-----BEGIN RSA PRIVATE KEY-----";
    let body: String = (0..12)
        .map(|i| common::random_alnum(900 + i, 64) + "\n")
        .collect();
    pair.commit(&[("k.pem", &format!("{begin}\n{body}"))], "truncated paste");
    assert!(pair.push(&["origin", "main"]).ok);
    pair.commit(
        &[(
            "k.pem",
            &format!("{begin}\n{body}-----END RSA PRIVATE KEY-----\n"),
        )],
        "complete it",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.says("k.pem:2");
}

#[test]
fn a_secret_in_a_signature_header_is_rejected() {
    let pair = Pair::new("srv-gpgsig", "");
    pair.seed();
    let token = github_token(741);
    let tree = pair.git(&pair.client, &["rev-parse", "HEAD^{tree}"]);
    let parent = pair.git(&pair.client, &["rev-parse", "HEAD"]);
    let raw = format!(
        "tree {tree}\nparent {parent}\nauthor a <a@example.invalid> 1 +0000\ncommitter a <a@example.invalid> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n {token}\n -----END PGP SIGNATURE-----\n\nsigned\n"
    );
    let out = pair.sb.run_with_input(
        &pair.client,
        "git",
        &[
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--literally",
            "--stdin",
        ],
        raw.as_bytes(),
    );
    let out = check(out, "hash-object");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let pushed = pair.push(&["origin", &format!("{id}:refs/heads/signed")]);
    pair.assert_rejected(&pushed, "(commit author/committer)", &token);
}

#[test]
fn a_finding_below_block_at_is_accepted_shown_and_recorded_as_a_warning() {
    let rule = "rules:\n  - id: acme-weak-code\n    confidence: low\n    description: Acme door code\n    regex: 'acme_code=([A-Za-z0-9]{12})'\n    keywords: [acme_code]\n";
    let pair = Pair::new("srv-block-at", rule);
    pair.seed();
    let value = common::random_alnum(42, 12);
    pair.commit(&[("door.env", &format!("acme_code={value}\n"))], "door");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    pushed.says("door.env:1");
    assert!(!pushed.text.contains(&value));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(line["findings"], serde_json::json!([]));
    assert_eq!(line["warnings"][0]["rule"], "acme-weak-code");
    assert_eq!(line["warnings"][0]["path"], "door.env");
    pair.commit(
        &[(
            "door2.env",
            &format!("acme_code={}\n", common::random_alnum(43, 12)),
        )],
        "door2",
    );
    pair.set_policy(&format!("{rule}block_at: low\n"));
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    assert_eq!(pair.last_audit()["decision"], "rejected");
}

// ---------------------------------------------------------------------------------------------
// Red team after issue 10: pushed suppressions, secrets in names, the key, the policy's source.

/// A suppression in pushed content silences the pusher's own finding: it is a bypass by another
/// name, and counts only for a pusher who may bypass.
#[test]
fn pushed_suppressions_do_not_count_for_a_pusher_who_may_not_bypass() {
    let pair = Pair::new("srv-suppress-no-bypass", "bypass: {enabled: false}\n");
    let first = pair.seed();
    let token = github_token(801);
    pair.commit(
        &[(
            "fixture.py",
            &format!("T = \"{token}\"  # leakgate:allow\n"),
        )],
        "fixture",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    pushed.says("allow marker for fixture.py:1");
    pushed.says("was not honoured");
    assert!(!pushed.text.contains(&token));
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["path"], "fixture.py");
    assert_eq!(line["suppressed"], serde_json::json!([]));
    let refused = &line["suppressions_not_honoured"][0];
    assert_eq!(refused["kind"], "allow-marker", "{line}");
    assert_eq!(refused["why"], "pusher-may-not-bypass", "{line}");
    assert_eq!(refused["path"], "fixture.py");
    assert!(refused["fingerprint"].is_string());

    // A pusher outside `bypass.users`: a `.leakgateignore` entry does not count either, here
    // committed on an unrelated orphan branch of the same push.
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);
    let key = aws_key_id(801);
    pair.commit(&[("token.env", &format!("KEY_ID={key}\n"))], "token");
    let fingerprint = client_fingerprint(&pair.sb, &pair.client, "token.env");
    pair.git(&pair.client, &["switch", "-q", "--orphan", "allow"]);
    pair.commit(
        &[(
            ".leakgateignore",
            &format!("{fingerprint}  # not a secret\n"),
        )],
        "allow it",
    );
    pair.git(&pair.client, &["switch", "-q", "main"]);
    pair.set_policy("pusher_variable: GL_USERNAME\nbypass: {users: [alice]}\n");
    let mallory = [("GL_USERNAME", "mallory")];
    let pushed = pair.push_from(&pair.client, &["origin", "main", "allow"], &mallory);
    assert!(
        !pushed.ok,
        "an ignore entry silenced the push:\n{}",
        pushed.text
    );
    pushed.says(".leakgateignore entry for token.env:1");
    pushed.says("mallory may not bypass");
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["suppressions_not_honoured"][0]["kind"], "ignore-file");
    assert_eq!(
        line["suppressions_not_honoured"][0]["why"],
        "pusher-may-not-bypass"
    );

    // `repository_files` stays the admin's switch: with markers off, a marker is no suppression
    // at all, whoever pushes.
    pair.set_policy("repository_files: {allow_markers: false}\n");
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);
    pair.commit(
        &[(
            "fixture.py",
            &format!("T = \"{token}\"  # leakgate:allow\n"),
        )],
        "fixture",
    );
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["suppressions_not_honoured"], serde_json::json!([]));

    // A pusher who may bypass may suppress.
    pair.set_policy("pusher_variable: GL_USERNAME\nbypass: {users: [alice]}\n");
    let alice = [("GL_USERNAME", "alice")];
    let pushed = pair.push_from(&pair.client, &["origin", "main"], &alice);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted-with-suppressions");
    assert_eq!(line["suppressed"][0]["kind"], "allow-marker");
}

/// A `.leakgateignore` counts only at the tip of the ref that brings the finding's commit: one
/// on an orphan branch of the same push silences nothing on `main`.
#[test]
fn a_leakgateignore_counts_only_at_the_tip_of_the_ref_that_brings_the_secret() {
    let pair = Pair::new("srv-ignore-per-ref", "");
    let first = pair.seed();
    // An AWS key id: its fingerprint line (`aws-access-key-id:…`) looks like no secret itself.
    let key = aws_key_id(802);
    let secret = pair.commit(&[("token.env", &format!("KEY_ID={key}\n"))], "token");
    let fingerprint = client_fingerprint(&pair.sb, &pair.client, "token.env");
    let ignore = format!("{fingerprint}  # not a secret\n");
    pair.git(&pair.client, &["switch", "-q", "--orphan", "allow"]);
    pair.commit(&[(".leakgateignore", &ignore)], "allow it");
    pair.git(&pair.client, &["switch", "-q", "main"]);
    let pushed = pair.push(&["origin", "main", "allow"]);
    assert!(
        !pushed.ok,
        "another branch's ignore file counted:\n{}",
        pushed.text
    );
    assert!(
        remote_line(
            &pushed.text,
            "only the .leakgateignore at the tip of the ref"
        ),
        "{}",
        pushed.text
    );
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["commit"], secret.as_str(), "{line}");
    assert_eq!(
        line["suppressions_not_honoured"][0]["why"],
        "not-in-its-refs-ignore-file"
    );

    // A branch whose tip lists it does not cover `main`, which brings the same commit without it.
    pair.git(&pair.client, &["switch", "-q", "-c", "covered", "main"]);
    pair.commit(&[(".leakgateignore", &ignore)], "allow it here");
    let pushed = pair.push(&["origin", "main", "covered"]);
    pushed.rejected();
    assert_eq!(pair.last_audit()["decision"], "rejected");

    // On the same ref, it counts (the default policy lets anyone bypass).
    let pushed = pair.push(&["origin", "covered"]);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted-with-suppressions");
    assert_eq!(line["suppressed"][0]["kind"], "ignore-file");
}

/// The same change on two branches of one push is decided per branch: an ignore file at the tip
/// of one does not cover the other, whichever commit the server happens to scan first (the
/// pusher chooses commit dates, and the blob pair is read once).
#[test]
fn the_same_secret_on_two_branches_is_decided_per_branch_whatever_the_dates() {
    let pair = Pair::new("srv-ignore-two-branches", "");
    let first = pair.seed();
    let key = aws_key_id(803);
    for (round, ignored_newer) in [(0, true), (1, false)] {
        let (a, b) = (format!("a{round}"), format!("b{round}"));
        pair.git(&pair.client, &["switch", "-q", "-c", &b, "main"]);
        pair.commit(&[("s.txt", &format!("k={key}\n"))], "b");
        pair.git(&pair.client, &["switch", "-q", "-c", &a, "main"]);
        std::fs::write(pair.client.join("s.txt"), format!("k={key}\n")).unwrap();
        let fingerprint = client_fingerprint(&pair.sb, &pair.client, "s.txt");
        std::fs::write(
            pair.client.join(".leakgateignore"),
            format!("{fingerprint}  # not a secret\n"),
        )
        .unwrap();
        pair.git(&pair.client, &["add", "-A"]);
        // The branch with the ignore file dated after (or before) the other one.
        let date = if ignored_newer {
            "2099-01-01T00:00:00Z"
        } else {
            "2001-01-01T00:00:00Z"
        };
        let mut cmd = pair.cmd(&pair.client, "git");
        cmd.args(["commit", "-q", "-m", "a"])
            .env("GIT_COMMITTER_DATE", date);
        assert!(cmd.output().unwrap().status.success());
        let pushed = pair.push(&["origin", &a, &b]);
        assert!(
            !pushed.ok,
            "round {round}: branch {b} went in under {a}'s ignore file:\n{}",
            pushed.text
        );
        assert_eq!(pair.server_ref(&format!("refs/heads/{b}")), None);
        assert_eq!(pair.last_audit()["decision"], "rejected");
        pair.git(&pair.client, &["switch", "-q", "main"]);
    }
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
}

/// A token used as a branch name, a tag name or in the bypass reason is a finding, and neither
/// the audit log nor the pusher's `remote:` lines ever hold it in full (nor most of it).
#[test]
fn secrets_in_ref_names_tag_names_and_the_bypass_reason_are_found_and_never_stored() {
    let pair = Pair::new("srv-secret-names", "");
    let first = pair.seed();
    let in_audit = |secret: &str| {
        let raw = std::fs::read_to_string(&pair.audit).unwrap();
        raw.contains(secret) || raw.contains(&secret[4..20])
    };
    let in_remote_lines = |text: &str, secret: &str| {
        text.lines()
            .any(|l| l.starts_with("remote:") && (l.contains(secret) || l.contains(&secret[4..20])))
    };
    let redacted = |secret: &str| format!("{}…{}", &secret[..4], &secret[secret.len() - 4..]);

    // A branch named after a token.
    let token = github_token(821);
    let pushed = pair.push(&["origin", &format!("HEAD:refs/heads/{token}")]);
    pushed.rejected();
    pushed.says("(pushed ref name):1");
    assert!(!in_remote_lines(&pushed.text, &token), "{}", pushed.text);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(
        line["refs"][0]["ref"],
        format!("refs/heads/{}", redacted(&token))
    );
    assert_eq!(line["findings"][0]["path"], "(pushed ref name)");
    assert!(!in_audit(&token), "the ref name is in the audit log");

    // An annotated tag named after a token: the paths that name the tag are redacted too.
    let tag = github_token(822);
    pair.git(&pair.client, &["tag", "-a", "-m", "release", &tag]);
    let pushed = pair.push(&["origin", &format!("refs/tags/{tag}")]);
    pushed.rejected();
    let header = format!("(tag header refs/tags/{})", redacted(&tag));
    pushed.says(&header);
    assert!(!in_remote_lines(&pushed.text, &tag), "{}", pushed.text);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert!(
        line["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == header.as_str()),
        "{line}"
    );
    assert!(!in_audit(&tag), "the tag name is in the audit log");
    pair.git(&pair.client, &["tag", "-d", &tag]);

    // A bypass whose reason holds a token is refused, and the token is a finding of its own.
    let secret = github_token(823);
    let in_reason = github_token(824);
    pair.commit(&[("t.env", &format!("T={secret}\n"))], "t");
    let option = format!("leakgate.bypass=rotated, the new one is {in_reason}");
    let pushed = pair.push(&["-o", &option, "origin", "main"]);
    pushed.rejected();
    pushed.says("bypass refused: the reason holds a secret");
    pushed.says("(push option leakgate.bypass):1");
    assert!(
        !in_remote_lines(&pushed.text, &in_reason),
        "{}",
        pushed.text
    );
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert!(line.get("bypass_reason").is_none(), "{line}");
    assert!(
        line["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "(push option leakgate.bypass)"),
        "{line}"
    );
    assert!(
        !in_audit(&in_reason),
        "the reason's token is in the audit log"
    );
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);

    // A bypassed branch named after a token, and its deletion: both lines redact the name.
    let pushed = pair.push(&[
        "-o",
        "leakgate.bypass=test fixture",
        "origin",
        &format!("HEAD:refs/heads/{token}"),
    ]);
    pushed.accepted();
    assert!(!in_remote_lines(&pushed.text, &token), "{}", pushed.text);
    assert_eq!(pair.last_audit()["decision"], "bypassed");
    let pushed = pair.push(&["origin", &format!(":refs/heads/{token}")]);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "accepted");
    assert_eq!(
        line["refs"][0]["ref"],
        format!("refs/heads/{}", redacted(&token))
    );
    for secret in [&token, &tag, &secret, &in_reason] {
        assert!(!in_audit(secret), "a secret is in the audit log");
    }
}

/// A fingerprint key that others may read, or an empty one, fails `check-config` and `install`
/// (naming the file and the fix) and rejects every push that needs a fingerprint, bypass or not;
/// the pusher sees a neutral message, the audit line the detail. A missing key is created 0600.
#[test]
fn a_world_readable_or_empty_fingerprint_key_is_refused_everywhere_it_is_needed() {
    let pair = Pair::new("srv-bad-key", "");
    let first = pair.seed();
    let key = pair.key.display().to_string();
    let server = |args: &[&str]| {
        let out = pair
            .cmd(&pair.sb.tmp.0, SERVER_BIN)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), all_output(&out))
    };
    let policy = pair.policy.to_str().unwrap();
    let install = ["install", pair.server.to_str().unwrap(), "--config", policy];
    let (code, text) = server(&["check-config", policy]);
    assert_eq!(code, Some(0), "{text}");

    std::fs::set_permissions(&pair.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    for args in [&["check-config", policy][..], &install[..]] {
        let (code, text) = server(args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.contains(&key) && text.contains("chmod 600"), "{text}");
    }
    let token = github_token(831);
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    let pushed = pair.push(&["-o", "leakgate.bypass=test fixture", "origin", "main"]);
    assert!(
        !pushed.ok,
        "bypassed with an unusable key:\n{}",
        pushed.text
    );
    pushed.says("cannot record what it found");
    assert!(
        !pushed.text.contains(&key),
        "the key path leaked:\n{}",
        pushed.text
    );
    assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected-on-key-failure");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains(&key) && detail.contains("chmod 600"),
        "{detail}"
    );
    // A push that needs no fingerprint is not held up by the key.
    pair.git(&pair.client, &["reset", "-q", "--hard", &first]);
    pair.commit(&[("clean.txt", "clean\n")], "clean");
    let pushed = pair.push(&["origin", "main"]);
    pushed.accepted();
    assert_eq!(pair.last_audit()["decision"], "accepted");

    std::fs::write(&pair.key, "").unwrap();
    std::fs::set_permissions(&pair.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    for args in [&["check-config", policy][..], &install[..]] {
        let (code, text) = server(args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.contains(&key) && text.contains("is empty"), "{text}");
    }
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    let pushed = pair.push(&["origin", "main"]);
    pushed.rejected();
    assert_eq!(pair.last_audit()["decision"], "rejected-on-key-failure");

    // A missing key: `check-config` notes it, the next push creates it (0600) and uses it.
    std::fs::remove_file(&pair.key).unwrap();
    let (code, text) = server(&["check-config", policy]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("does not exist yet"), "{text}");
    let pushed = pair.push(&["-o", "leakgate.bypass=test fixture", "origin", "main"]);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "bypassed");
    assert!(line["findings"][0]["fingerprint"].is_string(), "{line}");
    let mode = std::fs::metadata(&pair.key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// A hook without `--config` takes the policy from `leakgate.config` in the repository's own
/// config file only: the pusher's global config (`GIT_CONFIG_GLOBAL`, `~/.gitconfig`), which git
/// reads in a local push, cannot name another policy.
#[test]
fn the_pushers_git_config_cannot_choose_the_policy_of_a_hook_without_config() {
    let pair = Pair::new("srv-git-config-policy", "");
    let top = pair.sb.tmp.0.clone();
    pair.git(&top, &["init", "-q", "--bare", "-b", "main", "plain.git"]);
    let out = pair
        .cmd(&top, SERVER_BIN)
        .args(["install", "plain.git"])
        .output()
        .unwrap();
    check(out, "leakgate-server install");
    let hook = std::fs::read_to_string(top.join("plain.git/hooks/pre-receive")).unwrap();
    assert!(!hook.contains("--config"), "{hook}");
    let policy = pair.policy.to_str().unwrap();
    pair.git(
        &top,
        &[
            "--git-dir",
            "plain.git",
            "config",
            "leakgate.config",
            policy,
        ],
    );
    let evil_log = pair.sb.tmp.join("evil/audit.jsonl");
    let evil = pair.sb.tmp.write(
        "evil.yaml",
        format!(
            "allow: {{paths: ['.*']}}\naudit_log: '{}'\nfingerprint_key_file: '{}'\n",
            evil_log.display(),
            pair.sb.tmp.join("evil/key").display()
        ),
    );
    let pusher_config = format!("[leakgate]\n\tconfig = {}\n", evil.display());
    let global = pair.sb.tmp.write("evil.gitconfig", &pusher_config);
    std::fs::write(pair.sb.home.join(".gitconfig"), &pusher_config).unwrap();
    let token = github_token(841);
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    let destination = top.join("plain.git").display().to_string();

    let pushed = pair.push_from(
        &pair.client,
        &[&destination, "main"],
        &[("GIT_CONFIG_GLOBAL", global.to_str().unwrap())],
    );
    assert!(
        !pushed.ok,
        "the pusher's global config chose the policy:\n{}",
        pushed.text
    );
    pushed.says("t.env:1");
    assert_eq!(pair.last_audit()["decision"], "rejected");

    // The same through HOME (no GIT_CONFIG_GLOBAL: git reads ~/.gitconfig).
    let before = pair.audit_lines().len();
    let out = pair
        .cmd(&pair.client, "git")
        .env_remove("GIT_CONFIG_GLOBAL")
        .args(["push", &destination, "main"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", all_output(&out));
    assert_eq!(pair.audit_lines().len(), before + 1);
    assert_eq!(pair.last_audit()["decision"], "rejected");
    assert!(!evil_log.exists(), "the pusher's policy was used");
    std::fs::remove_file(pair.sb.home.join(".gitconfig")).unwrap();
}

/// `check-config` refuses an audit log or key path that is relative (it would land inside the
/// bare repository, which may be served as files over dumb HTTP) and an allowlist entry that is
/// empty or matches the empty string (it would allow every path or value), with `file:line:col`.
#[test]
fn check_config_refuses_relative_paths_and_allow_entries_that_match_everything() {
    let sb = Sandbox::new("srv-check-config-e");
    let dir = sb.dir("work");
    for (name, text, line, says) in [
        (
            "relative-log.yaml",
            "color: false\naudit_log: audit.jsonl\n",
            2,
            "absolute",
        ),
        (
            "relative-key.yaml",
            "fingerprint_key_file: keys/fingerprint.key\n",
            1,
            "absolute",
        ),
        (
            "empty-value.yaml",
            "allow:\n  values: ['EXAMPLE', '']\n",
            2,
            "is empty",
        ),
        (
            "dot-star.yaml",
            "allow:\n  values:\n    - '.*'\n",
            3,
            "matches the empty string",
        ),
        (
            "optional-path.yaml",
            "allow:\n  paths: ['^vendor/|']\n",
            2,
            "matches the empty string",
        ),
    ] {
        let path = dir.write(name, text);
        let out = dir.run(SERVER_BIN, &["check-config", path.to_str().unwrap()]);
        let output = all_output(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {output}");
        assert!(
            output.contains(&format!("{}:{line}:", path.display())),
            "{name}: {output}"
        );
        assert!(output.contains(says), "{name}: {output}");
    }
}

/// A bypass reason needs a visible letter or digit: zero-width, control or punctuation-only
/// reasons are no reason; the first option with a real reason wins.
#[test]
fn a_bypass_reason_without_a_visible_letter_or_digit_is_refused() {
    let pair = Pair::new("srv-invisible-reason", "");
    let first = pair.seed();
    let token = github_token(851);
    pair.commit(&[("t.env", &format!("T={token}\n"))], "t");
    for reason in [
        "\u{200b}",
        "\u{200b}\u{200d}\u{2060}\u{feff}",
        "\u{7}\u{1b}\u{7f}",
        " . - ",
    ] {
        let option = format!("leakgate.bypass={reason}");
        let pushed = pair.push(&["-o", &option, "origin", "main"]);
        pushed.rejected();
        pushed.says("a reason is required");
        let line = pair.last_audit();
        assert_eq!(line["decision"], "rejected");
        assert!(line.get("bypass_reason").is_none(), "{line}");
        assert_eq!(pair.server_ref("refs/heads/main").as_deref(), Some(&*first));
    }
    let pushed = pair.push(&[
        "-o",
        "leakgate.bypass=\u{200b}",
        "-o",
        "leakgate.bypass=rotated, SEC-9",
        "origin",
        "main",
    ]);
    pushed.accepted();
    let line = pair.last_audit();
    assert_eq!(line["decision"], "bypassed");
    assert_eq!(line["bypass_reason"], "rotated, SEC-9");
}

/// `leakgate-server uninstall` puts a chained pre-receive hook back, byte for byte, removes the
/// policy setting, and leaves a repository without leakgate alone.
#[test]
fn server_uninstall_restores_the_chained_hook() {
    let sb = Sandbox::new("srv-uninstall");
    let run = |args: &[&str]| sb.server(&sb.tmp.0, args);
    let server = sb.bare_repo("server.git");
    let dir = &sb.tmp;
    let hook = server.join("hooks/pre-receive");
    let original = "#!/bin/sh\necho the admin's own hook\n";
    std::fs::write(&hook, original).unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        format!("audit_log: '{}'\n", dir.join("audit.jsonl").display()),
    )
    .unwrap();
    let out = run(&[
        "install",
        server.to_str().unwrap(),
        "--config",
        policy.to_str().unwrap(),
    ]);
    check(out, "install");
    assert!(server.join("hooks/pre-receive.leakgate-chained").exists());

    let out = run(&["uninstall", server.to_str().unwrap()]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("chained hook is back"), "{text}");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
    assert!(!server.join("hooks/pre-receive.leakgate-chained").exists());
    let out = sb.git_at(&server, &["config", "leakgate.config"]);
    assert_eq!(out.status.code(), Some(1), "leakgate.config still set");

    // Again: the hook is the admin's own now, and stays.
    let out = run(&["uninstall", server.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(all_output(&out).contains("not leakgate's"));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), original);
}

/// When `leakgate-server` is gone, the pusher is told to ask the admin, never to use a client
/// option (`--no-verify` cannot skip a server hook).
#[test]
fn missing_server_binary_never_suggests_no_verify() {
    let pair = Pair::new("srv-missing-bin", "");
    let hook = pair.server.join("hooks/pre-receive");
    let script = std::fs::read_to_string(&hook).unwrap();
    let script = script.replace(SERVER_BIN, "/nonexistent/leakgate-server");
    let script = script.replace(
        "command -v 'leakgate-server'",
        "command -v 'leakgate-server-gone'",
    );
    std::fs::write(&hook, script).unwrap();
    let client = pair.client.clone();
    pair.commit_in(&client, &[("README", "readme\n")], "init");
    let out = pair
        .cmd(&client, "git")
        .args(["push", "origin", "main"])
        .output()
        .unwrap();
    let text = all_output(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("server admin"), "{text}");
    assert!(!text.contains("--no-verify"), "{text}");
}

/// Runs `git update-ref --stdin` in the server with `lines` as its input.
fn server_update_refs(pair: &Pair, lines: &str) {
    let server = pair.server.to_str().unwrap();
    let out = pair.sb.run_with_input(
        &pair.sb.join(""),
        "git",
        &["--git-dir", server, "update-ref", "--stdin"],
        lines.as_bytes(),
    );
    check(out, "git update-ref --stdin");
}

#[test]
fn new_commits_behind_a_merge_into_an_old_branch_are_scanned_and_only_they() {
    let pair = Pair::new("srv-walk-merge", "");
    pair.seed();
    pair.fast_import("main", "main", 5, |_| String::new());
    pair.git(&pair.client, &["reset", "-q", "--hard"]);
    assert!(pair.push(&["origin", "main"]).ok);
    pair.git(&pair.client, &["branch", "old", "main~3"]);
    pair.git(&pair.client, &["checkout", "-q", "old"]);
    pair.commit(&[("old.txt", "old branch\n")], "old branch");
    assert!(pair.push(&["origin", "old"]).ok);
    // 60 new commits (a pack, not loose objects) from main~2, which no ref points at; the secret
    // sits in the 30th; then merged into `old`, whose tip the server has.
    let token = github_token(601);
    pair.fast_import("topic", "main~2", 60, |i| {
        if i == 30 {
            let body = format!("TOKEN={token}\n");
            format!(
                "M 100644 inline topic/token.env\ndata {}\n{body}\n",
                body.len()
            )
        } else {
            String::new()
        }
    });
    let thirtieth = pair.git(&pair.client, &["rev-parse", "topic~30"]);
    pair.git(
        &pair.client,
        &["merge", "-q", "--no-ff", "-m", "merge topic", "topic"],
    );
    let pushed = pair.push(&["origin", "old"]);
    assert!(!pushed.ok, "{}", pushed.text);
    assert!(pushed.text.contains("topic/token.env:1"), "{}", pushed.text);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["findings"][0]["commit"], thirtieth.as_str());
    // The 60 commits and the merge: neither `old`'s nor `main`'s history again.
    assert_eq!(line["scanned"]["commits"], 61, "{line}");
    let (_, packs) = pair.server_objects();
    assert!(packs <= 1, "the rejected pack was kept");
}

#[test]
fn a_deleted_branch_pushed_again_is_scanned_again() {
    let pair = Pair::new("srv-walk-recreate", "");
    pair.seed();
    pair.git(&pair.client, &["checkout", "-q", "-b", "topic"]);
    let token = github_token(602);
    pair.commit(&[("ci/token.env", &format!("TOKEN={token}\n"))], "ci");
    pair.commit(&[("later.txt", "later\n")], "later");
    // Accepted with a bypass (its secret was reported, not cleaned), then deleted.
    let bypass = "leakgate.bypass=revoked already, SEC-7";
    let pushed = pair.push(&["-o", bypass, "origin", "topic"]);
    assert!(pushed.ok, "{}", pushed.text);
    assert_eq!(pair.last_audit()["decision"], "bypassed");
    assert!(pair.push(&["origin", ":topic"]).ok);
    assert_eq!(pair.server_ref("refs/heads/topic"), None);
    // The commits are still in the server's object store, reachable from no ref: a commit's
    // presence does not prove it passed the hook, so the branch is scanned again.
    let pushed = pair.push(&["origin", "topic"]);
    assert!(!pushed.ok, "re-created branch accepted:\n{}", pushed.text);
    assert!(pushed.text.contains("ci/token.env:1"), "{}", pushed.text);
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected");
    assert_eq!(line["scanned"]["commits"], 2, "{line}");
    // The same branch under a second name while the first exists brings nothing new.
    assert!(pair.push(&["-o", bypass, "origin", "topic"]).ok);
    let pushed = pair.push(&["origin", "topic:refs/heads/copy"]);
    assert!(pushed.ok, "{}", pushed.text);
    assert_eq!(pair.last_audit()["scanned"]["commits"], 0);
}

#[test]
fn a_branch_sharing_history_with_thousands_of_refs_scans_only_its_new_commits() {
    let pair = Pair::new("srv-walk-refs", "");
    pair.seed();
    pair.fast_import("main", "main", 300, |_| String::new());
    pair.git(&pair.client, &["reset", "-q", "--hard"]);
    assert!(pair.push(&["origin", "main"]).ok);
    let history = pair.git(&pair.client, &["rev-list", "main"]);
    let history: Vec<&str> = history.lines().collect();
    // 3,000 pull-request refs on every commit of main but main~150, which the new branches
    // start from: no ref points at it, so the walk must find it reachable through others.
    let mut lines = String::new();
    for n in 0..3000 {
        let mut k = n % history.len();
        if k == 150 {
            k = 151;
        }
        lines.push_str(&format!("create refs/pull/{n}/head {}\n", history[k]));
    }
    server_update_refs(&pair, &lines);
    pair.server_git(&["pack-refs", "--all"]);
    pair.git(&pair.client, &["checkout", "-q", "-b", "clean", "main~150"]);
    pair.commit(&[("clean-1.txt", "one\n")], "clean 1");
    pair.commit(&[("clean-2.txt", "two\n")], "clean 2");
    let pushed = pair.push(&["origin", "clean"]);
    assert!(pushed.ok, "{}", pushed.text);
    assert_eq!(pair.last_audit()["scanned"]["commits"], 2);
    pair.git(&pair.client, &["checkout", "-q", "-b", "dirty", "main~150"]);
    let token = github_token(603);
    let id = pair.commit(&[("ci/token.env", &format!("TOKEN={token}\n"))], "ci");
    pair.commit(&[("after.txt", "after\n")], "after");
    let pushed = pair.push(&["origin", "dirty"]);
    assert!(!pushed.ok, "{}", pushed.text);
    let line = pair.last_audit();
    assert_eq!(line["scanned"]["commits"], 2, "{line}");
    assert_eq!(line["findings"][0]["commit"], id.as_str());
}

/// The content scan and the scan of the pusher's texts share one scanner: the pushed
/// `.leakgateignore` and allow markers that silence a key in the content (the pusher may bypass)
/// silence it neither in a ref name nor in the bypass reason.
#[test]
fn a_key_silenced_in_the_content_still_counts_in_a_ref_name_and_the_bypass_reason() {
    let pair = Pair::new("srv-shared-scanner", "");
    let first = pair.seed();
    let key = aws_key_id(861);
    pair.commit(&[("token.env", &format!("KEY_ID={key}\n"))], "token");
    let fingerprint = client_fingerprint(&pair.sb, &pair.client, "token.env");
    pair.commit(
        &[
            ("token.env", &format!("KEY_ID={key}  # leakgate:allow\n")),
            (".leakgateignore", &format!("{fingerprint}  # reviewed\n")),
        ],
        "allow it",
    );
    pair.push(&["origin", "main"]).accepted();
    assert_eq!(pair.last_audit()["decision"], "accepted-with-suppressions");
    let allowed = pair.server_ref("refs/heads/main");

    let pushed = pair.push(&["origin", &format!("HEAD:refs/heads/{key}")]);
    pushed.rejected();
    pushed.says("(pushed ref name):1");
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected", "{line}");
    assert_eq!(line["findings"][0]["path"], "(pushed ref name)", "{line}");

    pair.commit(&[("more.txt", "more\n")], "more");
    let option = format!("leakgate.bypass=reviewed {key} leakgate:allow");
    let pushed = pair.push(&["-o", &option, "origin", "main"]);
    pushed.rejected();
    pushed.says("(push option leakgate.bypass):1");
    assert_eq!(pair.last_audit()["decision"], "rejected");
    assert_eq!(pair.server_ref("refs/heads/main"), allowed);

    // The content scan stops on its time budget (the policy accepts that): the ref name counts.
    pair.fast_import("many", &first, 400, |_| String::new());
    pair.set_policy("time_budget_ms: 1\non_timeout: accept\n");
    let pushed = pair.push(&["origin", &format!("many:refs/heads/{key}")]);
    pushed.rejected();
    pushed.says("(pushed ref name):1");
    assert_eq!(pair.server_ref(&format!("refs/heads/{key}")), None);
    let line = pair.last_audit();
    assert!(
        line["detail"].as_str().unwrap().contains("time budget"),
        "{line}"
    );
    assert_eq!(line["findings"][0]["path"], "(pushed ref name)", "{line}");
}

/// The content scan fails before it takes the shared scanner (the pushed commit cannot be read)
/// and the policy accepts errors: the ref name is still scanned, counts and is redacted.
#[test]
fn a_key_in_a_ref_name_counts_when_the_scan_fails_before_it_starts() {
    let pair = Pair::new("srv-early-error-name", "on_error: accept\n");
    pair.seed();
    pair.commit(&[("data.txt", "one\n")], "data");
    pair.push(&["origin", "main"]).accepted();
    let commit = pair.corrupt_server_blob("HEAD");
    let key = aws_key_id(862);
    let pushed = pair.push(&["origin", &format!("HEAD:refs/heads/{key}")]);
    pushed.rejected();
    pushed.says("(pushed ref name):1");
    let line = pair.last_audit();
    assert_eq!(line["decision"], "rejected", "{line}");
    assert!(line["detail"].as_str().unwrap().contains(&commit), "{line}");
    assert_eq!(line["findings"][0]["path"], "(pushed ref name)", "{line}");
    assert!(!line.to_string().contains(&key), "{line}");
}
