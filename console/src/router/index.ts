import { createRouter, createWebHistory } from 'vue-router';
import { useSession } from '../stores/session';

// Every page but sign-in is its own lazy chunk: the first screen downloads only what it shows.
export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('../views/SignIn.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('../views/Layout.vue'),
      children: [
        { path: '', redirect: '/rooms' },
        { path: 'rooms', name: 'rooms', component: () => import('../views/rooms/RoomGrid.vue'), meta: { title: '活动室日程' } },
        { path: 'approvals', name: 'approvals', component: () => import('../views/rooms/Approvals.vue'), meta: { title: '待审核预约' } },
        { path: 'meals', name: 'meals', component: () => import('../views/meals/Menus.vue'), meta: { title: '助餐菜单' } },
        { path: 'meals/:menuId/delivery-sheets', name: 'delivery-sheets', component: () => import('../views/meals/DeliverySheets.vue'), meta: { title: '送餐单', print: true } },
        { path: 'meals/:menuId/kitchen-sheet', name: 'kitchen-sheet', component: () => import('../views/meals/KitchenSheet.vue'), meta: { title: '厨房备餐单', print: true } },
        { path: 'childcare', name: 'childcare', component: () => import('../views/childcare/Sessions.vue'), meta: { title: '托育' } },
        { path: 'childcare/:sessionId/attendance', name: 'attendance', component: () => import('../views/childcare/Attendance.vue'), meta: { title: '出勤表', print: true } },
        { path: 'volunteers', name: 'volunteers', component: () => import('../views/volunteers/Hours.vue'), meta: { title: '志愿服务时长' } },
        { path: 'dashboard', name: 'dashboard', component: () => import('../views/Dashboard.vue'), meta: { title: '数据看板' } },
        { path: 'desk-today', name: 'desk-today', component: () => import('../views/rooms/DeskToday.vue'), meta: { title: '今日签到' } },
        { path: 'wellness-alerts', name: 'wellness-alerts', component: () => import('../views/care/WellnessAlerts.vue'), meta: { title: '关爱提醒' } },
        { path: 'series', name: 'series', component: () => import('../views/rooms/Series.vue'), meta: { title: '每周重复预约' } },
        { path: 'residents', name: 'residents', component: () => import('../views/residents/Residents.vue'), meta: { title: '居民' } },
        { path: 'delivery-runs', name: 'delivery-runs', component: () => import('../views/meals/DeliveryRuns.vue'), meta: { title: '送餐任务' } },
        { path: 'volunteer-tasks', name: 'volunteer-tasks', component: () => import('../views/volunteers/Tasks.vue'), meta: { title: '志愿任务' } },
        { path: 'childcare-desk', name: 'childcare-desk', component: () => import('../views/childcare/DeskBooking.vue'), meta: { title: '托育预约（前台）' } },
        { path: 'time-bank', name: 'time-bank', component: () => import('../views/volunteers/TimeBank.vue'), meta: { title: '志愿者时间银行' } },
        { path: 'room-admin', name: 'room-admin', component: () => import('../views/rooms/RoomAdmin.vue'), meta: { title: '活动室管理' } },
        { path: 'ratings', name: 'ratings', component: () => import('../views/rooms/Ratings.vue'), meta: { title: '评价' } },
        { path: 'audit', name: 'audit', component: () => import('../views/residents/AuditTrail.vue'), meta: { title: '查阅记录' } },
        { path: 'visit-report', name: 'visit-report', component: () => import('../views/care/VisitReport.vue'), meta: { title: '探访月报' } },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/rooms' },
  ],
});

router.beforeEach((to) => {
  const session = useSession();
  if (!to.meta.public && !session.signedIn) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  return true;
});

window.addEventListener('csb-signed-out', () => {
  void router.push({ name: 'login' });
});
