// hls.js ships no declarations for its light build; it is the same API as the full one.
declare module "hls.js/light" {
  export { default } from "hls.js";
}
