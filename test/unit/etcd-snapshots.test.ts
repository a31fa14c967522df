// The pre-upgrade snapshot's name is made by the program (snapshotName) and checked by two
// host scripts: the gateway's puller and the server's forced command. These tie the three,
// and pin the key and known_hosts lines the copy step hands to ssh.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { knownHostsLine, snapshotAccessEnv, snapshotName } from "../../cluster/etcdSnapshots";

const REPO = path.resolve(__dirname, "..", "..");

/** The single-quoted value a script assigns to `name` (`NAME='…'`). */
function scriptPattern(rel: string, name: string): string {
    const m = new RegExp(`^${name}='([^']+)'$`, "m").exec(fs.readFileSync(path.join(REPO, rel), "utf8"));
    assert.ok(m, `${rel} assigns ${name}`);
    return m[1];
}

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

describe("etcd snapshot copies: names and keys", () => {
    const puller = scriptPattern("network/etcd-snapshots.sh", "NAME");
    const sender = scriptPattern("cluster/k3s-snapshots.sh", "SNAPSHOT_NAME");

    it("the gateway's puller and the server's forced command accept the same names", () => {
        assert.strictEqual(puller, sender);
    });

    it("every name the program makes is one the scripts accept, and nothing more", () => {
        const accepted = new RegExp(puller);
        for (const v of ["v1.31.4+k3s1", "v1.33.6+k3s12", "v1.100.0+k3s1"]) {
            assert.ok(accepted.test(snapshotName(v)), snapshotName(v));
        }
        assert.strictEqual(snapshotName("v1.33.6+k3s1"), "homecloud-pre-v1.33.6-k3s1");
        for (const bad of ["homecloud-pre-v1.33.6-k3s1; id", "homecloud-pre-v1.33.6-k3s1-node1-1700000000", "etcd-snapshot-node1-1700000000", ""]) {
            assert.ok(!accepted.test(bad), bad);
        }
    });

    it("refuses a K3s version it cannot name", () => {
        assert.throws(() => snapshotName("1.33.6+k3s1"), { name: "RangeError", message: 'K3s version "1.33.6+k3s1" must look like v1.33.6+k3s1' });
    });

    it("known_hosts lines: the key without its comment, the port in brackets when it is not 22", () => {
        assert.strictEqual(knownHostsLine("10.0.0.11", 22, `${ED25519} root@node1\n`), `10.0.0.11 ${ED25519}\n`);
        assert.strictEqual(knownHostsLine("10.0.0.11", 2222, ED25519), `[10.0.0.11]:2222 ${ED25519}\n`);
        assert.throws(() => knownHostsLine("10.0.0.11", 22, "not a key"),
            { message: 'the pinned host key of 10.0.0.11 "not a key" has the key type "not"; use ssh-ed25519 (/etc/ssh/ssh_host_ed25519_key.pub) or ecdsa-sha2-nistp256/384/521' });
    });

    it("the gateway's key: an ssh-ed25519 key without its comment, or an error naming it", () => {
        assert.deepStrictEqual(snapshotAccessEnv(`${ED25519} root@gw`, "pi"), { HC_SNAPSHOT_KEY: ED25519, HC_SNAPSHOT_USER: "pi" });
        assert.throws(() => snapshotAccessEnv("", "pi"), { message: /^the gateway's snapshot key "" is not an SSH public key; / });
    });
});
