import { type MantineColor, type MantineSize, Progress } from "@mantine/core";

/**
 * A labelled `role="progressbar"` (Mantine's section carries role and aria-valuenow); `value`
 * is 0 to 1, shown and announced as a whole percentage. Work under way is striped, not animated:
 * moving stripes repaint every frame for as long as a job runs, and with software compositing
 * (a VM, a headless browser) that is CPU taken from the page's own progress updates.
 */
export function ProgressBar(props: {
  label: string;
  value: number;
  color?: MantineColor;
  size?: MantineSize;
  /** Work under way: striped. */
  running?: boolean;
}) {
  const percent = Math.round(Math.min(1, Math.max(0, props.value)) * 100);
  return (
    <Progress.Root size={props.size ?? "lg"}>
      <Progress.Section
        value={percent}
        aria-label={props.label}
        color={props.color}
        striped={props.running}
      />
    </Progress.Root>
  );
}
