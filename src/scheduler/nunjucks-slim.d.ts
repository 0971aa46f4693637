// nunjucks' runtime-only build (no compiler): the same API as the full package for precompiled templates.
declare module 'nunjucks/browser/nunjucks-slim.js' {
  import nunjucks from 'nunjucks';
  export default nunjucks;
}
