/** A repeatable option (commander's argParser): `--root A --root B` gives `['A', 'B']`, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
