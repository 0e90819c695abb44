import type { CSSProperties, ReactNode } from "react";

const BARE: CSSProperties = { listStyle: "none", margin: 0, padding: 0 };

/**
 * A real <ul> (screen readers announce "list, 10 items") without bullets; `grid` lays the items
 * out in as many columns of at least that width as fit.
 */
export function PlainList(props: { label: string; grid?: number; gap?: string; children: ReactNode }) {
  const layout: CSSProperties = props.grid
    ? { display: "grid", gridTemplateColumns: `repeat(auto-fill, minmax(${props.grid}px, 1fr))` }
    : { display: "flex", flexDirection: "column" };
  return (
    <ul
      aria-label={props.label}
      style={{ ...BARE, ...layout, gap: props.gap ?? "var(--mantine-spacing-md)" }}
    >
      {props.children}
    </ul>
  );
}
