// The consumer's own configuration, checked at once before anything is registered: each
// problem names its key (`homecloud-consumer:<key>`) and the fix. Pure: no Pulumi import.

export interface Settings {
    /** The homecloud stack to deploy onto, `<organization>/homecloud/<stack>`. */
    readonly homecloudStack: string;
    /** DNS label: the namespace, the objects' names and the host `<app>.<domain>`. */
    readonly app: string;
    readonly image: string;
    readonly replicas: number;
}

export interface RawSettings {
    readonly homecloudStack?: string;
    readonly app?: string;
    readonly image?: string;
    readonly replicas?: number;
}

export const DEFAULTS = { app: "hello", image: "traefik/whoami:v1.11.0", replicas: 2 } as const;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const STACK = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function parseSettings(raw: RawSettings): Settings {
    const problems: string[] = [];
    const key = (k: string) => `homecloud-consumer:${k}`;
    const homecloudStack = raw.homecloudStack ?? "";
    if (!STACK.test(homecloudStack)) {
        problems.push(`${key("homecloudStack")}: ${JSON.stringify(homecloudStack)} is not a fully qualified stack; ` +
            "use <organization>/homecloud/<stack>, e.g. organization/homecloud/dev");
    }
    const app = raw.app ?? DEFAULTS.app;
    if (!DNS_LABEL.test(app)) {
        problems.push(`${key("app")}: ${JSON.stringify(app)} is not a DNS label; use lower-case letters, digits and '-', e.g. hello`);
    }
    const image = raw.image ?? DEFAULTS.image;
    const lastPart = image.split("/").pop() ?? "";
    const pinned = /^\S+$/.test(image) && (/@sha256:[0-9a-f]{64}$/.test(image) || /^[^:]+:[\w][\w.-]{0,127}$/.test(lastPart));
    if (!pinned || lastPart.endsWith(":latest")) {
        problems.push(`${key("image")}: ${JSON.stringify(image)} is not a pinned image; give a tag or digest, e.g. ${DEFAULTS.image}`);
    }
    const replicas = raw.replicas ?? DEFAULTS.replicas;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10) {
        problems.push(`${key("replicas")}: ${JSON.stringify(replicas)} is out of range; use a whole number from 1 to 10`);
    }
    if (problems.length > 0) {
        throw new Error(`Invalid homecloud-consumer configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return { homecloudStack, app, image, replicas };
}
