/**
 * Promote-then-rollback on generated overlays (see test/support/overlay-arbitraries.ts), checked
 * without trusting the editor's own verifier: the result parses under YAML 1.1 and 1.2, only the
 * wanted fields changed, text outside the edited entries is untouched, and the rollback restores
 * the entries exactly — byte for byte wherever the promotion touched no formatting. Rendering the
 * same shapes with the real kustomize is in test/integration/overlay-kustomize.test.ts.
 *
 * A failure prints fast-check's seed and path; SLIPWAY_PROPERTY_SEED=<seed> replays the run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import type { ImageSetting } from '../../core/images.js';
import { editOverlayImages, exactImageEdit, readOverlayImages, setOverlayImages } from '../../core/overlay.js';
import {
  FIELDS,
  digestValue,
  nameValue,
  overlayModel,
  promotionFor,
  renderOverlay,
  tagValue,
  type EntryModel,
  type OverlayModel,
} from '../support/overlay-arbitraries.js';

const FILE = 'overlays/generated/kustomization.yaml';
const seed = process.env.SLIPWAY_PROPERTY_SEED ? Number(process.env.SLIPWAY_PROPERTY_SEED) : undefined;
const runs = { numRuns: 200, ...(seed !== undefined ? { seed } : {}) };

const sample = overlayModel.chain((model) => promotionFor(model).map((promotion) => ({ model, promotion })));

type Json = Record<string, unknown>;

/** The document as data, under the YAML version kustomize reads with and under this package's. */
function data(text: string): Json {
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parseDocument(text, { version });
    if (doc.errors.length > 0) throw new Error(`YAML ${version} does not parse: ${doc.errors[0]!.message}\n${text}`);
  }
  return parse(text, { version: '1.1' }) as Json;
}

function entries(doc: Json): Json[] {
  return (doc.images ?? []) as Json[];
}

/** What an entry holds after a setting: newName when given, tag and digest exactly as given. */
function promotedEntry(old: Json, setting: ImageSetting): Json {
  const out: Json = { ...old };
  if (setting.newName !== undefined) out.newName = setting.newName;
  for (const f of ['newTag', 'digest'] as const) {
    if (setting[f] !== undefined) out[f] = setting[f];
    else delete out[f];
  }
  return out;
}

const UNSAFE = /^(?:[0-9]+|1\.20|1_000|on|y|null|2024\.10|1e10|e[0-9]+)$/;

/**
 * Whether writing the entry back can give the very same bytes: values replaced in a style that
 * holds both old and new value, and fields removed only where re-adding one puts the same line
 * back (alphabetical keys, plain value, no comment on, above or right below it).
 */
function formattingKept(e: EntryModel, setting: ImageSetting): boolean {
  const after = promotedEntry(Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, v.text])), setting);
  const alphabetical = e.order.every((k, i) => i === 0 || e.order[i - 1]! < k);
  return FIELDS.every((f) => {
    const v = e.fields[f];
    if (!v) return true;
    // Removing the first key moves a comment line below it up onto the `- ` line.
    const at = e.order.indexOf(f);
    if (after[f] === undefined) return alphabetical && v.style === 'plain' && !v.comment && at !== e.commentBefore && !(at === 0 && e.commentBefore === 1);
    return v.style !== 'plain' || !UNSAFE.test(String(after[f]));
  });
}

function modelEntry(model: OverlayModel, name: string): EntryModel {
  return model.entries.find((e) => e.name === name)!;
}

describe('overlay edits on generated overlays (property)', () => {
  it('a promotion changes exactly the wanted fields and nothing outside the edited entries', () => {
    fc.assert(
      fc.property(sample, ({ model, promotion }) => {
        const rendered = renderOverlay(model);
        const original = rendered.text;
        const promoted = setOverlayImages(original, FILE, promotion);
        const was = data(original);
        const now = data(promoted.text);

        // Outside images: the same data; and the same bytes before and after the images: section.
        const { images: _a, ...restWas } = was;
        const { images: _b, ...restNow } = now;
        expect(restNow).toEqual(restWas);
        expect(promoted.text.startsWith(rendered.before)).toBe(true);
        expect(promoted.text.endsWith(rendered.after)).toBe(true);

        // Entries: the same names in the same order; edited ones as wanted, the others as they were, to the byte.
        const wanted = new Map(promotion.map((p) => [p.name, p]));
        expect(entries(now).map((e) => e.name)).toEqual(entries(was).map((e) => e.name));
        let from = 0;
        for (const [i, old] of entries(was).entries()) {
          const setting = wanted.get(old.name as string);
          expect(entries(now)[i]).toEqual(setting ? promotedEntry(old, setting) : old);
          if (!setting) {
            const at = promoted.text.indexOf(rendered.entryText.get(old.name as string)!, from);
            expect(at).toBeGreaterThanOrEqual(from);
            from = at;
          }
        }
        expect(readOverlayImages(promoted.text, FILE, [...wanted.keys()])).toEqual(promotion.map((p) => promotedEntry(readOverlayImages(original, FILE, [p.name])[0]! as unknown as Json, p)));
        expect(promoted.text.includes('\r\n')).toBe(model.crlf);
        if (model.crlf) expect(promoted.text.replace(/\r\n/g, '')).not.toContain('\n');

        // Doing it again changes nothing.
        expect(setOverlayImages(promoted.text, FILE, promotion)).toEqual({ text: promoted.text, changed: false });
      }),
      runs,
    );
  });

  it('an exact edit to any setting (fields set, replaced and removed, several at once) leaves exactly that setting', () => {
    const target = (model: OverlayModel) =>
      fc.shuffledSubarray(model.entries.map((e) => e.name), { minLength: 1 }).chain((names) =>
        fc.tuple(
          ...names.map((name) =>
            fc.record({ newName: fc.option(nameValue, { nil: undefined }), newTag: fc.option(tagValue, { nil: undefined }), digest: fc.option(digestValue, { nil: undefined }) }).map(
              (v): ImageSetting => ({ name, ...Object.fromEntries(Object.entries(v).flatMap(([k, x]) => (x ? [[k, x.text]] : []))) }),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(
        overlayModel.chain((model) => target(model).map((settings) => ({ model, settings }))),
        ({ model, settings }) => {
          const original = renderOverlay(model).text;
          const edited = editOverlayImages(original, FILE, settings.map(exactImageEdit)).text;
          const was = data(original);
          const now = data(edited);
          const wanted = new Map(settings.map((t) => [t.name, t]));
          expect(entries(now)).toEqual(entries(was).map((e) => (wanted.has(e.name as string) ? { ...wanted.get(e.name as string) } : e)));
          const { images: _a, ...restWas } = was;
          const { images: _b, ...restNow } = now;
          expect(restNow).toEqual(restWas);
          expect(readOverlayImages(edited, FILE, settings.map((t) => t.name))).toEqual(settings);
        },
      ),
      runs,
    );
  });

  it('a rollback restores the entries exactly, byte for byte wherever the promotion touched no formatting', () => {
    fc.assert(
      fc.property(sample, ({ model, promotion }) => {
        const original = renderOverlay(model).text;
        const names = promotion.map((p) => p.name);
        const previous = readOverlayImages(original, FILE, names);
        const promoted = setOverlayImages(original, FILE, promotion).text;

        // The entry as it was, absent fields included.
        const exact = editOverlayImages(promoted, FILE, previous.map(exactImageEdit)).text;
        expect(data(exact)).toEqual(data(original));
        expect(readOverlayImages(exact, FILE, names)).toEqual(previous);
        if (promotion.every((p) => formattingKept(modelEntry(model, p.name), p))) expect(exact).toBe(original);

        // The settings alone (how a rollback is written today) decide only the fields they give:
        // tag and digest come back where the entry had either, newName where it had one.
        const settings = setOverlayImages(promoted, FILE, previous).text;
        const back = readOverlayImages(settings, FILE, names);
        for (const [i, p] of previous.entries()) {
          if (p.newTag !== undefined || p.digest !== undefined) expect({ newTag: back[i]!.newTag, digest: back[i]!.digest }).toEqual({ newTag: p.newTag, digest: p.digest });
          if (p.newName !== undefined) expect(back[i]!.newName).toBe(p.newName);
        }
        const decided = previous.every((p, i) => (p.newTag !== undefined || p.digest !== undefined) && (p.newName !== undefined || promotion[i]!.newName === undefined));
        if (decided) expect(data(settings)).toEqual(data(original));
      }),
      runs,
    );
  });
});
