/** A repeatable option (commander's argParser): `--root A --root B` gives `['A', 'B']`, in order. Pass no default, so `--help` does not print `(default: [])`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
