// The Pulumi CLI's rules for project config, ported from its source (pulumi v3.250.0,
// sdk/go/common/workspace), so that a stack file the tests accept is one `pulumi preview`
// accepts:
//   project.go  Validate():            an array declares `items`; a default has the declared type.
//   config.go   mergeConfig():          a project key the stack does not set, without a default or
//                                      value, is missing: "Stack '<s>' is missing configuration
//                                      value(s) '<a>', '<b>' and '<c>'" (sorted).
//   config.go   validateStackConfigValue(): a `secret` key must be encrypted in the stack; a
//                                      value must have the declared type (ValidateConfigValue).
//   project.go  ValidateConfigValue(): integer = whole number or a string that parses as one;
//                                      boolean = true/false or "true"/"false"; array = list whose
//                                      items validate; object = map.
type TypeName = "string" | "integer" | "boolean" | "array" | "object";
export interface ProjectKey {
    type?: TypeName;
    items?: { type: TypeName; items?: ProjectKey["items"] };
    default?: unknown;
    secret?: boolean;
}

export function validateConfigValue(type: TypeName, items: ProjectKey["items"], value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
        case "boolean":
            return value === true || value === false || value === "true" || value === "false";
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((v) => validateConfigValue(items.type, items.items, v));
        default:
            return false;
    }
}

/** InferFullTypeName: `array<string>` for a list. */
function fullTypeName(type: TypeName, items: ProjectKey["items"]): string {
    return items !== undefined ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

function formatKeys(keys: string[]): string {
    const q = [...keys].sort().map((k) => `'${k}'`);
    return q.length === 1 ? q[0] : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}

/** The errors the CLI would stop with, for the project's `config:` block and one stack's config. */
export function cliConfigErrors(project: string, projectConfig: Record<string, ProjectKey>, stack: string,
    stackConfig: Record<string, unknown>): string[] {
    const errors: string[] = [];
    for (const [key, t] of Object.entries(projectConfig)) {
        if (t.type === "array" && t.items === undefined) {
            errors.push(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
        }
        if (t.type !== undefined && t.default !== undefined && !validateConfigValue(t.type, t.items, t.default)) {
            errors.push(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(t.type, t.items)}'`);
        }
    }
    if (errors.length > 0) {
        return errors;
    }
    const value = (key: string): unknown => stackConfig[`${project}:${key}`] ?? stackConfig[key];
    const missing = Object.keys(projectConfig).filter((k) => value(k) === undefined && projectConfig[k].default === undefined);
    if (missing.length > 0) {
        return [`Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${formatKeys(missing)}`];
    }
    for (const key of Object.keys(projectConfig).sort()) {
        const t = projectConfig[key];
        const v = value(key);
        if (v === undefined || t.type === undefined) {
            continue;
        }
        const secure = typeof v === "object" && v !== null && "secure" in v;
        if (t.secret && !secure) {
            return [`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`];
        }
        // A scalar comes to the check as its text, a list or map as itself.
        const content = secure ? "" : typeof v === "object" && v !== null ? v : String(v);
        if (!secure && !validateConfigValue(t.type, t.items, content)) {
            return [`Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(t.type, t.items)}'`];
        }
    }
    return [];
}
