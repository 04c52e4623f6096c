import ElementPlus from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import 'element-plus/dist/index.css';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { errorText } from './api/client';
import './styles.css';

const app = createApp(App);
app.use(createPinia());
app.use(router);
app.use(ElementPlus, { locale: zhCn });
// No blank screens: an error a page did not catch is shown, not swallowed.
app.config.errorHandler = (err) => {
  console.error(err);
  window.dispatchEvent(new CustomEvent('csb-error', { detail: errorText(err) }));
};
app.mount('#app');
