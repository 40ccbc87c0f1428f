// bottleneck's light build (no Redis clustering), the one Octokit's throttling plugin
// loads: its API is the full build's, whose types bottleneck ships.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
