import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi, TRPCProvider } from './api';
import { router } from './router';
import { ApiContext } from './shell';
import './styles.css';

const api = createApi();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={api.queryClient}>
        <TRPCProvider trpcClient={api.trpc} queryClient={api.queryClient}>
          <RouterProvider router={router} />
        </TRPCProvider>
      </QueryClientProvider>
    </ApiContext.Provider>
  </StrictMode>,
);
