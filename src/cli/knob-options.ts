// The method knobs as command-line flags, one a knob of the table (src/methods/knobs.ts).
import { Command, Option } from 'commander';
import { isSwitch, knobs, type AnyKnob, type MethodKnobs } from '../methods/knobs.js';
import { flagParser } from './parse.js';
import { given } from './run-options.js';

/** The knob flags as commander parses them. */
export type KnobFlags = MethodKnobs;

function knobOption(k: AnyKnob): Option {
  const opt = new Option(k.flag, k.description);
  if (k.value.choices) opt.choices(k.value.choices);
  // a choice is shown in --help as typed: "2" for --bits, like "query" for --gqa
  if (k.default !== undefined && !isSwitch(k)) opt.default(k.default, k.value.choices ? JSON.stringify(k.value.text(k.default)) : undefined);
  if (k.value.parse) opt.argParser(flagParser(k.value.parse));
  return opt;
}

export function addKnobOptions(cmd: Command): Command {
  for (const k of knobs) cmd.addOption(knobOption(k));
  return cmd;
}

const attributeOf = (k: AnyKnob): string => new Option(k.flag).attributeName();

/** Every knob's value from the flags (defaults included). */
export function knobsFrom(flags: KnobFlags): MethodKnobs {
  const values = flags as unknown as Record<string, unknown>;
  return Object.fromEntries(knobs.flatMap((k) => (values[attributeOf(k)] === undefined ? [] : [[k.key, values[attributeOf(k)]]]))) as MethodKnobs;
}

/** The knob flags the user typed (defaults left out, so a suite's knobs stay). */
export function givenKnobs(cmd: Command, flags: KnobFlags): Partial<MethodKnobs> | undefined {
  const all = knobsFrom(flags) as Record<string, unknown>;
  const typed = knobs.filter((k) => given(cmd, attributeOf(k)));
  return typed.length ? Object.fromEntries(typed.map((k) => [k.key, all[k.key]])) as Partial<MethodKnobs> : undefined;
}
