/**
 * Catapult `.properties` files: INI-like (`[section]`, `key = value`, whole-line `#`/`;` comments).
 *
 * The editor keeps every byte of the template except the value being changed, so diffs against the network
 * package stay readable and comments survive. Values are set through the parsed structure (never by text
 * substitution) and are validated, so user input cannot add lines, sections or keys.
 */

export type PropertiesErrorReason =
  'Syntax' | 'DuplicateSection' | 'DuplicateKey' | 'UnknownSection' | 'UnknownKey' | 'InvalidValue';

export class PropertiesError extends Error {
  override readonly name = 'PropertiesError';

  constructor(
    readonly reason: PropertiesErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export type PropertyValue = string | number | bigint | boolean;

interface SectionLine {
  readonly kind: 'section';
  readonly name: string;
  readonly text: string;
}

interface EntryLine {
  readonly kind: 'entry';
  readonly key: string;
  /** Everything up to and including the whitespace after `=`, kept verbatim when the value changes. */
  readonly prefix: string;
  value: string;
  /** Whitespace after the value (templates have some, e.g. `version = `), kept verbatim. */
  suffix: string;
}

interface OtherLine {
  readonly kind: 'other';
  readonly text: string;
}

type Line = SectionLine | EntryLine | OtherLine;

const SECTION_LINE = /^\s*\[([^\]]+)\]\s*$/;
const ENTRY_LINE = /^(\s*)([^\s=#;[][^\s=]*)(\s*=\s*)(.*?)(\s*)$/;
const KEY_NAME = /^[A-Za-z0-9_.-]+$/;
// Any C0 control (includes CR/LF/TAB), DEL, and Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_VALUE_CHARS = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** Converts and validates a value; throws `InvalidValue` for anything that could change the file's structure. */
export function formatPropertyValue(value: PropertyValue, where = 'value'): string {
  const text = typeof value === 'string' ? value : String(value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new PropertiesError('InvalidValue', `${where}: number ${text} is not finite`);
  }
  if (FORBIDDEN_VALUE_CHARS.test(text)) {
    throw new PropertiesError('InvalidValue', `${where}: value contains a line break or control character`);
  }
  if (text !== text.trim()) {
    // catapult trims values, so leading/trailing blanks would silently mean something else than asked
    throw new PropertiesError('InvalidValue', `${where}: value has leading or trailing whitespace`);
  }
  return text;
}

export class PropertiesDocument {
  private constructor(
    private readonly lines: Line[],
    private readonly eol: string,
    private readonly finalNewline: boolean,
    private readonly source: string,
  ) {}

  /** Parses a file; `source` only names the file in error messages. */
  static parse(text: string, source = 'properties'): PropertiesDocument {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const finalNewline = text.endsWith('\n');
    const rawLines = text.split(/\r?\n/);
    if (finalNewline) rawLines.pop();

    const lines: Line[] = [];
    const seen = new Map<string, Set<string>>();
    let current: Set<string> | undefined;
    let currentName = '';
    rawLines.forEach((raw, index) => {
      const where = `${source}:${index + 1}`;
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
        lines.push({ kind: 'other', text: raw });
        return;
      }
      const section = SECTION_LINE.exec(raw);
      if (section) {
        const name = section[1]!.trim();
        if (seen.has(name)) throw new PropertiesError('DuplicateSection', `${where}: section [${name}] appears twice`);
        current = new Set();
        currentName = name;
        seen.set(name, current);
        lines.push({ kind: 'section', name, text: raw });
        return;
      }
      const entry = ENTRY_LINE.exec(raw);
      if (!entry) throw new PropertiesError('Syntax', `${where}: expected [section], key = value or a comment`);
      if (!current) throw new PropertiesError('Syntax', `${where}: key "${entry[2]}" appears before any [section]`);
      const key = entry[2]!;
      if (current.has(key))
        throw new PropertiesError('DuplicateKey', `${where}: key "${key}" appears twice in [${currentName}]`);
      current.add(key);
      lines.push({ kind: 'entry', key, prefix: entry[1]! + key + entry[3]!, value: entry[4]!, suffix: entry[5]! });
    });
    return new PropertiesDocument(lines, eol, finalNewline, source);
  }

  sections(): string[] {
    return this.lines.filter((line): line is SectionLine => line.kind === 'section').map((line) => line.name);
  }

  hasSection(section: string): boolean {
    return this.sections().includes(section);
  }

  /** Key/value pairs of one section in file order; undefined when the section does not exist. */
  entries(section: string): Array<[string, string]> | undefined {
    const index = this.sectionIndex(section);
    if (index < 0) return undefined;
    const result: Array<[string, string]> = [];
    for (const line of this.sectionBody(index)) {
      if (line.kind === 'entry') result.push([line.key, line.value]);
    }
    return result;
  }

  get(section: string, key: string): string | undefined {
    return this.findEntry(section, key)?.value;
  }

  /** Changes the value of an existing key; unknown sections or keys throw so typos in overrides are caught. */
  set(section: string, key: string, value: PropertyValue): this {
    const where = `${this.source} [${section}] ${key}`;
    const text = formatPropertyValue(value, where);
    if (this.sectionIndex(section) < 0) {
      throw new PropertiesError(
        'UnknownSection',
        `${this.source}: section [${section}] does not exist in the template`,
      );
    }
    const entry = this.findEntry(section, key);
    if (!entry) throw new PropertiesError('UnknownKey', `${this.source}: key "${key}" does not exist in [${section}]`);
    entry.value = text;
    return this;
  }

  /**
   * Adds a key to a section that exists in the template (for list-like sections such as
   * `[treasury_reissuance_epoch_ineligible_voter_addresses]` or log component levels); existing keys throw.
   */
  add(section: string, key: string, value: PropertyValue): this {
    const where = `${this.source} [${section}] ${key}`;
    if (!KEY_NAME.test(key))
      throw new PropertiesError('InvalidValue', `${where}: key name has characters outside [A-Za-z0-9_.-]`);
    const text = formatPropertyValue(value, where);
    const index = this.sectionIndex(section);
    if (index < 0)
      throw new PropertiesError(
        'UnknownSection',
        `${this.source}: section [${section}] does not exist in the template`,
      );
    if (this.findEntry(section, key))
      throw new PropertiesError('DuplicateKey', `${where}: key already exists, use set()`);
    // insert after the last entry of the section so trailing blank lines/comments keep separating sections
    let insertAt = index + 1;
    for (let i = index + 1; i < this.lines.length && this.lines[i]!.kind !== 'section'; i += 1) {
      if (this.lines[i]!.kind === 'entry') insertAt = i + 1;
    }
    this.lines.splice(insertAt, 0, { kind: 'entry', key, prefix: `${key} = `, value: text, suffix: '' });
    return this;
  }

  toString(): string {
    const body = this.lines
      .map((line) => {
        if (line.kind === 'entry') return line.prefix + line.value + line.suffix;
        return line.text;
      })
      .join(this.eol);
    return this.finalNewline ? body + this.eol : body;
  }

  private sectionIndex(section: string): number {
    return this.lines.findIndex((line) => line.kind === 'section' && line.name === section);
  }

  private sectionBody(index: number): Line[] {
    const body: Line[] = [];
    for (let i = index + 1; i < this.lines.length && this.lines[i]!.kind !== 'section'; i += 1)
      body.push(this.lines[i]!);
    return body;
  }

  private findEntry(section: string, key: string): EntryLine | undefined {
    const index = this.sectionIndex(section);
    if (index < 0) return undefined;
    return this.sectionBody(index).find((line): line is EntryLine => line.kind === 'entry' && line.key === key);
  }
}
