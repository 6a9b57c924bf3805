// cohort's web front end: the route table and start-up.

import { onUnauthenticated } from './api';
import { h } from './dom';
import { renderHeader } from './layout';
import { navigate, route, startRouter, type Render } from './router';
import { forget, loadMe, me } from './session';
import { signInPage } from './pages/signin';
import { coursesPage } from './pages/courses';
import { coursePage } from './pages/course';
import { idePage } from './pages/ide';
import { roomPage } from './pages/room';

/** Pages that need a signed-in user send others to the sign-in page. */
function signedIn(render: Render): Render {
  return async (main, params, query) => {
    if (!(await loadMe())) {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true);
      return;
    }
    return render(main, params, query);
  };
}

route('/signin', signInPage);
route('/', signedIn(coursesPage));
route('/courses/:id', signedIn(coursePage));
route('/lessons/:lesson', signedIn(idePage));
route('/projects/:project', signedIn(idePage));
route('/room/:name', roomPage);

onUnauthenticated(() => {
  if (!me()) return;
  forget();
  renderHeader();
  navigate(`/signin?next=${encodeURIComponent(location.pathname)}`, true);
});

async function start(): Promise<void> {
  const main = document.getElementById('main');
  if (!main) return;
  try {
    await loadMe();
  } catch (e) {
    main.append(h('p', { role: 'alert' }, `The server could not be reached: ${String(e)}`));
  }
  renderHeader();
  startRouter(main);
}

void start();
