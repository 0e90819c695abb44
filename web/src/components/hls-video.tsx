import { useEffect, useRef, type VideoHTMLAttributes } from "react";

const HLS_TYPE = "application/vnd.apple.mpegurl";

/**
 * A <video> that plays the adaptive ladder when there is one: natively where the browser can
 * (Safari), else with hls.js — loaded on demand (its own chunk, only on the job page), so the
 * console's first load does not carry it — else, or after a fatal error, the MP4.
 */
export function HlsVideo({
  hlsUrl,
  mp4Url,
  ...props
}: { hlsUrl: string | undefined; mp4Url: string } & VideoHTMLAttributes<HTMLVideoElement>) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    if (!hlsUrl || video.canPlayType(HLS_TYPE) !== "" || !("MediaSource" in window)) {
      video.src = hlsUrl && video.canPlayType(HLS_TYPE) !== "" ? hlsUrl : mp4Url;
      return;
    }
    let stopped = false;
    let destroy: (() => void) | undefined;
    const playMp4 = () => {
      if (!stopped) video.src = mp4Url;
    };
    import("hls.js/light")
      .then(({ default: Hls }) => {
        if (stopped) return;
        if (!Hls.isSupported()) return playMp4();
        const player = new Hls();
        destroy = () => player.destroy();
        player.on(Hls.Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          player.destroy();
          playMp4();
        });
        player.loadSource(hlsUrl);
        player.attachMedia(video);
      })
      .catch(playMp4);
    return () => {
      stopped = true;
      destroy?.();
    };
  }, [hlsUrl, mp4Url]);
  return <video ref={ref} {...props} />;
}
